/** Firmata pin maps: the gateway's checks, its TypeBox schema, and the settings that use it. */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../cli/index.ts';
import { createDuplexPair } from '../../firmware-sim/index.ts';
import {
  FirmataKit,
  FirmataKitError,
  FirmataPinMapSchema,
  FirmataSensorSpecSchema,
  planFirmataPinMap,
} from '../../gateway/index.ts';

const PINS = {
  A0: { sensor: 'light', scale: [0, 1023, 0, 1000] },
  D7: { sensor: 'motion' },
  D8: { actuator: 'fan', kind: 'relay' },
  D9: { actuator: 'servo' },
  D13: { actuator: 'led' },
};

function expectPinMapError(pinMap: unknown, ...messages: RegExp[]): FirmataKitError {
  let caught: unknown;
  try {
    planFirmataPinMap(pinMap);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(FirmataKitError);
  const error = caught as FirmataKitError;
  expect(error.code).toBe('FIRMATA_PIN_MAP');
  for (const message of messages) expect(error.message).toMatch(message);
  return error;
}

describe('Firmata pin maps', () => {
  it('accepts a kit’s pin map and says what each pin is', () => {
    const plan = planFirmataPinMap(PINS);
    expect(plan).toContainEqual(
      expect.objectContaining({
        pinName: 'A0',
        role: 'sensor',
        name: 'light',
        input: 'analog',
        scale: [0, 1023, 0, 1000],
      }),
    );
    expect(plan).toContainEqual(
      expect.objectContaining({ pinName: 'D7', role: 'sensor', name: 'motion', input: 'digital' }),
    );
    expect(plan).toContainEqual(
      expect.objectContaining({ pinName: 'D8', role: 'actuator', name: 'fan', kind: 'relay' }),
    );
    expect(plan).toContainEqual(
      expect.objectContaining({ pinName: 'D9', kind: 'servo', pulseRange: [544, 2400] }),
    );
  });

  it('lists every problem of a bad pin map, each with its pin', () => {
    const error = expectPinMapError(
      {
        A0: { sensor: 'light' },
        X9: { sensor: 'temperature' },
        a1: { sensor: 'gas' },
        D0: { actuator: 'led' },
        D4: { sensor: 'temperature', input: 'analog' },
        D5: { sensor: 'button', scale: [0, 1, 0, 1] },
        A2: { sensor: 'Light Level' },
        A3: { sensor: 'light' },
        D6: { actuator: 'pump' },
        D10: { sensor: 'x', actuator: 'y' },
        D11: { actuator: 'servo', speed: 3 },
        D12: { actuator: 'led', kind: 'lamp' },
        A4: { sensor: 'soil', scale: [0, 1023] },
      },
      /12 problems/,
      /"X9" is not a pin name/,
      /"a1" .*write "A1"/,
      /D0: .*USB serial link/,
      /D4: "temperature" is an analog sensor but D4 is a digital pin/,
      /D5: "scale" applies to analog inputs/,
      /A2: "Light Level" is not a usable name/,
      /A3: "light" is already on/,
      /D6: say what "pump" is with "kind"/,
      /D10: give either "sensor" .* or "actuator" .*, not both/,
      /D11: unknown key "speed"/,
      /D12: "kind" must be one of led, relay, buzzer, servo/,
      /A4: "scale" must be four numbers/,
    );
    expect(error.problems).toHaveLength(12);
    expectPinMapError({}, /empty/);
    expectPinMapError([], /must be an object/);
    expectPinMapError({ A0: 'light' }, /A0: must be an object/);
    expectPinMapError({ D9: { actuator: 'servo', pulseRange: [2400, 544] } }, /pulseRange/);
  });

  it('refuses a bad pin map before touching the port', async () => {
    const [kitEnd] = createDuplexPair();
    await expect(
      FirmataKit.open({
        transport: kitEnd,
        pinMap: { D7: { sensor: 'motion', scale: [0, 1, 0, 1] } },
        onReadings() {},
      }),
    ).rejects.toMatchObject({ code: 'FIRMATA_PIN_MAP' });
    kitEnd.destroy();
  });
});

describe('the pin map schema', () => {
  it('accepts every pin map the gateway accepts', () => {
    for (const pinMap of [
      PINS,
      { A3: { sensor: 'button', input: 'digital' } },
      { D9: { actuator: 'arm', kind: 'servo', pulseRange: [600, 2000] } },
      { D8: { actuator: 'pump', kind: 'relay' }, A5: { sensor: 'soil_moisture' } },
    ]) {
      expect(planFirmataPinMap(pinMap).length).toBeGreaterThan(0);
      expect(Value.Check(FirmataPinMapSchema, pinMap)).toBe(true);
    }
  });

  it('refuses only what the gateway refuses, which says it in the schema’s words', () => {
    const badShapes: [unknown, RegExp][] = [
      [{}, /empty/],
      [{ X9: { sensor: 'light' } }, /"X9" is not a pin name/],
      [{ A0: { sensor: 'light', speed: 1 } }, /unknown key "speed"/],
      [{ A0: { sensor: 'Light' } }, /"Light" is not a usable name/],
      [{ A0: { sensor: 'light', input: 'pwm' } }, /"input" must be "analog" or "digital", not "pwm"/],
      [{ A0: { sensor: 'light', scale: [0, 1] } }, /"scale" must be four numbers/],
      [{ D9: { actuator: 'servo', pulseRange: [100, 2400] } }, /"pulseRange" must be \[min, max\]/],
      [{ D9: { actuator: 'servo', kind: 'motor' } }, /"kind" must be one of/],
    ];
    for (const [pinMap, message] of badShapes) {
      expect(Value.Check(FirmataPinMapSchema, pinMap)).toBe(false);
      expectPinMapError(pinMap, message);
    }
    const scale = FirmataSensorSpecSchema.properties.scale.errorMessage as string;
    expect(expectPinMapError({ A1: { sensor: 'gas', scale: 'linear' } }).problems).toEqual([`A1: ${scale}`]);
  });

  it('checks a Firmata port of the settings, worded as the gateway words it', () => {
    const port = { path: '/dev/ttyACM0', mode: 'firmata', kitId: 'uno-07' };
    const settings = (pinMap: unknown) => ({
      env: { IOTLAB_GATEWAY_PORTS: JSON.stringify([port, { ...port, path: '/dev/ttyACM1', pinMap }]) },
    });
    expect(() =>
      loadConfig(settings({ A0: { sensor: 'light', scale: [0, 1023] }, D13: { actuator: 'lamp' } })),
    ).toThrow(
      /^invalid setting gateway\.ports\.1\.pinMap \(env IOTLAB_GATEWAY_PORTS\): the pin map has 2 problems:\n- A0: "scale" must be four numbers .*\n- D13: say what "lamp" is with "kind"/,
    );
    const config = loadConfig(settings(PINS));
    // taken as written: the schema fills no defaults in (a default pulse range on the LED would be refused)
    expect(config.gateway.ports[1]?.pinMap).toEqual(PINS);
  });
});
