-- A USB kit can be bound to its board's USB serial number, so the gateway knows it without a
-- "# kit=" line from the sketch.
ALTER TABLE kits ADD COLUMN usb_serial VARCHAR(100);
CREATE UNIQUE INDEX kits_usb_serial ON kits (usb_serial);
