/**
 * The parts students wire, read as the parts would be: noise, resolution, range, and their quirks
 * (a DHT22 at most every 2 s, HC-SR04 echo misses, an MQ-2 warming up, a PIR holding its output).
 */
import { clamp } from './processes.ts';
import { keyedRandom, spread } from './random.ts';

/** Rounds to the sensor's resolution (0.1, 1, …) without binary noise such as 23.400000000000002. */
export function roundTo(value: number, resolution: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9));
  return Number((Math.round(value / resolution) * resolution).toFixed(decimals));
}

/**
 * DHT22 / AM2302 temperature and humidity: ±0.2 °C and ±1 %RH, 0.1 resolution, at most one
 * read every 2 s — asked sooner, it returns the previous reading, as the Adafruit library does.
 */
export class Dht22 {
  static readonly MIN_INTERVAL_MS = 2_000;
  readonly #seed: number;
  #last: { at: number; temperature: number; humidity: number } | undefined;

  constructor(seed: number) {
    this.#seed = seed;
  }

  read(now: number, temperature: number, humidity: number): { temperature: number; humidity: number } {
    const last = this.#last;
    if (last && now - last.at < Dht22.MIN_INTERVAL_MS) {
      return { temperature: last.temperature, humidity: last.humidity };
    }
    const reading = {
      temperature: roundTo(
        clamp(temperature + spread(keyedRandom(this.#seed, 'dht22.t', now), 0.2), -40, 80),
        0.1,
      ),
      humidity: roundTo(clamp(humidity + spread(keyedRandom(this.#seed, 'dht22.h', now), 1), 0, 100), 0.1),
    };
    this.#last = { at: now, ...reading };
    return { ...reading };
  }
}

/** LDR on an analog pin, converted to lux: ±3 % noise, 1 lx resolution. */
export function readLdr(seed: number, now: number, lux: number): number {
  return roundTo(Math.max(0, lux * (1 + spread(keyedRandom(seed, 'ldr', now), 0.03))), 1);
}

/** Capacitive soil moisture probe, mapped to %: ±0.5 % noise, 0.1 resolution. */
export function readSoil(seed: number, now: number, moisture: number): number {
  return roundTo(clamp(moisture + spread(keyedRandom(seed, 'soil', now), 0.5), 0, 100), 0.1);
}

/** HC-SR04 ultrasonic distance: 2–400 cm, ±0.3 cm; a missed echo reads 0 (or 400 when the sketch clamps a timeout). */
export const HCSR04_MISS_PROBABILITY = 0.03;

export function readHcSr04(seed: number, now: number, distanceCm: number): number {
  const miss = keyedRandom(seed, 'hcsr04.miss', now);
  if (miss < HCSR04_MISS_PROBABILITY) return miss < HCSR04_MISS_PROBABILITY * 0.7 ? 0 : 400;
  if (distanceCm > 400) return 0;
  return roundTo(clamp(distanceCm + spread(keyedRandom(seed, 'hcsr04', now), 0.3), 2, 400), 0.1);
}

/** MQ-2 gas sensor: reads high after power-on and settles over minutes; ±3 % noise, 1 ppm resolution. */
export const MQ2_WARMUP_PPM = 180;
export const MQ2_WARMUP_TAU_S = 90;

export function readMq2(seed: number, now: number, ppm: number, poweredSinceMs: number): number {
  const warmup = MQ2_WARMUP_PPM * Math.exp(-Math.max(0, now - poweredSinceMs) / 1000 / MQ2_WARMUP_TAU_S);
  return roundTo(Math.max(0, (ppm + warmup) * (1 + spread(keyedRandom(seed, 'mq2', now), 0.03))), 1);
}

/** HC-SR501 PIR: output stays 1 for this long after the last movement. */
export const PIR_HOLD_S = 3;
