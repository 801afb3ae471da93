/** The greenhouse kit: its profile and the physics of the greenhouse it measures. */
import { DhtEnvironment } from './environment.ts';
import { readLdr, readSoil } from './parts.ts';
import { clamp, Drift, dailyWave, daylight, Episodes, firstOrder } from './processes.ts';
import { dht22Sensors, type FanEffect, type Profile } from './profile.ts';

export const GREENHOUSE_FAN: FanEffect = { coolingC: 5, tauS: 15 };

export const GREENHOUSE_PROFILE: Profile = {
  name: 'greenhouse',
  description: 'DHT22, LDR and soil probe in a greenhouse; fan cools (≈5 °C, τ 15 s), pump waters the soil',
  sensors: [
    ...dht22Sensors(25, 60),
    { name: 'light', part: 'LDR', resolution: 1, nominal: 800, swing: 300, spike: 5000 },
    { name: 'soil_moisture', part: 'soil probe', resolution: 0.1, nominal: 45, swing: 10, spike: 30 },
  ],
  actuators: ['fan', 'pump'],
  initialActuators: { fan: 0, pump: 0 },
  events: [],
  fan: GREENHOUSE_FAN,
};

/**
 * Greenhouse: air warms with the daily wave and the sun (clouds shade it), drifts slowly; the fan
 * pulls the temperature ≈5 °C below ambient (τ 15 s) and the humidity 6 %RH down; the soil dries
 * (faster in sunshine) and the pump wets it towards 97 % (τ 60 s).
 */
export class GreenhouseEnvironment extends DhtEnvironment {
  // The room's constants, drawn from its own 'params' stream in this order: a seed names one room.
  readonly #params = this.stream('params');
  readonly #baseT = this.#params.uniform(21, 23);
  readonly #baseRh = this.#params.uniform(62, 68);
  readonly #peakLux = this.#params.uniform(25_000, 35_000);
  readonly #dryPerS = this.#params.uniform(3, 6) / 3600;
  #soil = this.#params.uniform(35, 60);
  readonly #driftT = new Drift(this.stream('drift.t'), 0.6, 1200);
  readonly #driftRh = new Drift(this.stream('drift.rh'), 2, 1200);
  #clouds!: Episodes;
  #cloud = 0;
  #light = 0;

  #sun(t: number): number {
    return daylight(t, this.offset) * (1 - this.#cloud);
  }

  #ambientT(t: number): number {
    return this.#baseT + 3 * dailyWave(t, this.offset) + 4 * this.#sun(t) + this.#driftT.value;
  }

  #ambientRh(t: number): number {
    return clamp(this.#baseRh - 2 * (this.#ambientT(t) - this.#baseT) + this.#driftRh.value, 20, 98);
  }

  protected init(now: number): void {
    this.#clouds = new Episodes(this.stream('clouds'), now, {
      meanGapS: 240,
      durationS: [60, 400],
      size: [0.3, 0.8],
    });
    this.#cloud = this.#clouds.at(now)?.size ?? 0;
    this.temperature = this.#ambientT(now) - (this.on('fan') ? GREENHOUSE_FAN.coolingC : 0);
    this.humidity = this.#ambientRh(now);
    this.#light = this.#peakLux * this.#sun(now);
  }

  protected tick(t: number, dtS: number): void {
    this.#driftT.step(dtS);
    this.#driftRh.step(dtS);
    this.#cloud = firstOrder(this.#cloud, this.#clouds.at(t)?.size ?? 0, dtS, 30);
    const fan = this.on('fan');
    const pump = this.on('pump');
    this.temperature = firstOrder(
      this.temperature,
      this.#ambientT(t) - (fan ? GREENHOUSE_FAN.coolingC : 0),
      dtS,
      GREENHOUSE_FAN.tauS,
    );
    this.humidity = firstOrder(this.humidity, this.#ambientRh(t) - (fan ? 6 : 0), dtS, 20);
    const sun = this.#sun(t);
    this.#light = this.#peakLux * sun;
    let soil = this.#soil - this.#dryPerS * (0.5 + sun) * dtS;
    if (pump) soil = firstOrder(soil, 97, dtS, 60);
    this.#soil = clamp(soil, 0, 100);
  }

  protected measure(now: number): Record<string, number> {
    const dht = this.readDht(now);
    return {
      temperature: dht.temperature,
      humidity: dht.humidity,
      light: readLdr(this.seed, now, this.#light),
      soil_moisture: readSoil(this.seed, now, this.#soil),
    };
  }

  truth(): Record<string, number> {
    return {
      temperature: this.temperature,
      humidity: this.humidity,
      light: this.#light,
      soil_moisture: this.#soil,
    };
  }
}
