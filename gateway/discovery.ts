import { statSync } from 'node:fs';
import { SerialPort } from 'serialport';

/** USB-serial chips found on the boards of the training base, by USB vendor id (and product ids). */
export const KNOWN_USB_SERIAL: readonly { vendorId: string; productIds?: string[]; name: string }[] = [
  { vendorId: '2341', name: 'Arduino' },
  { vendorId: '2a03', name: 'Arduino (arduino.org)' },
  { vendorId: '1a86', productIds: ['7523', '55d4', '5523'], name: 'CH340 / CH9102' },
  { vendorId: '10c4', productIds: ['ea60', 'ea70'], name: 'Silicon Labs CP210x' },
  { vendorId: '0403', productIds: ['6001', '6010', '6014', '6015'], name: 'FTDI' },
  { vendorId: '303a', name: 'Espressif (ESP32 native USB)' },
  { vendorId: '239a', name: 'Adafruit' },
];

export interface FoundPort {
  path: string;
  usbSerialNumber?: string;
  /** Chip or board family, when matched by USB id. */
  chip?: string;
  /** True for a path from the configuration rather than USB discovery. */
  configured: boolean;
}

export function matchUsbSerial(vendorId?: string, productId?: string): string | undefined {
  if (!vendorId) return undefined;
  const vid = vendorId.toLowerCase();
  const pid = productId?.toLowerCase();
  const known = KNOWN_USB_SERIAL.find(
    (entry) =>
      entry.vendorId === vid && (!entry.productIds || (pid !== undefined && entry.productIds.includes(pid))),
  );
  return known?.name;
}

/**
 * Finds the serial ports to open: USB ports whose vendor/product id is a known board or chip
 * (SerialPort.list, which needs udevadm on Linux), and the configured paths that exist (needed
 * where udevadm is absent, as in containers, and for ptys).
 */
export async function findPorts(configuredPaths: readonly string[], scanUsb: boolean): Promise<FoundPort[]> {
  const found = new Map<string, FoundPort>();
  if (scanUsb) {
    try {
      for (const info of await SerialPort.list()) {
        const chip = matchUsbSerial(info.vendorId, info.productId);
        if (!chip) continue;
        found.set(info.path, {
          path: info.path,
          chip,
          configured: false,
          ...(info.serialNumber ? { usbSerialNumber: info.serialNumber } : {}),
        });
      }
    } catch {
      // No udevadm (containers, minimal installs): only configured paths are watched.
    }
  }
  for (const path of configuredPaths) {
    if (!found.has(path) && statSync(path, { throwIfNoEntry: false }) !== undefined) {
      found.set(path, { path, configured: true });
    }
  }
  return [...found.values()];
}
