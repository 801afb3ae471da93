/** The air-quality kit: its profile and the physics of the room with a gas outlet it measures. */
import { DhtEnvironment } from './environment.ts';
import { readMq2 } from './parts.ts';
import { Drift, dailyWave, Episodes, firstOrder } from './processes.ts';
import { dht22Sensors, type FanEffect, type Profile } from './profile.ts';

export const AIR_QUALITY_FAN: FanEffect = { coolingC: 3, tauS: 20 };

export const AIR_QUALITY_PROFILE: Profile = {
  name: 'air-quality',
  description: 'MQ-2 and DHT22 in a room with occasional gas leaks; alarm and buzzer above 400 ppm',
  sensors: [
    { name: 'gas', part: 'MQ-2', resolution: 1, nominal: 150, swing: 50, spike: 800 },
    ...dht22Sensors(24, 50),
  ],
  actuators: ['fan', 'buzzer'],
  initialActuators: { fan: 0, buzzer: 0 },
  alarm: { sensor: 'gas', above: 400, clearBelow: 300, actuators: ['buzzer'], event: 'alarm' },
  events: [],
  fan: AIR_QUALITY_FAN,
};

/**
 * Room with a gas outlet: ≈120 ppm of background; every few minutes a leak (600–2000 ppm,
 * rising with τ 8 s) lasts 15–60 s, then the gas clears (τ 40 s, 8 s with the fan). The fan
 * also cools the room ≈3 °C (τ 20 s).
 */
export class AirQualityEnvironment extends DhtEnvironment {
  // The room's constants, drawn from its own 'params' stream in this order: a seed names one room.
  readonly #params = this.stream('params');
  readonly #background = this.#params.uniform(100, 140);
  readonly #baseT = this.#params.uniform(22, 25);
  readonly #baseRh = this.#params.uniform(45, 55);
  readonly #driftT = new Drift(this.stream('drift.t'), 0.4, 1200);
  #leaks!: Episodes;
  #gas = 0;

  #ambientT(t: number): number {
    return this.#baseT + 1.5 * dailyWave(t, this.offset) + this.#driftT.value;
  }

  protected init(now: number): void {
    this.#leaks = new Episodes(this.stream('leaks'), now, {
      meanGapS: 150,
      durationS: [15, 60],
      size: [600, 2000],
    });
    this.#gas = this.#background;
    this.temperature = this.#ambientT(now);
    this.humidity = this.#baseRh;
  }

  protected tick(t: number, dtS: number): void {
    this.#driftT.step(dtS);
    const fan = this.on('fan');
    const leak = this.#leaks.at(t);
    this.#gas = leak
      ? firstOrder(this.#gas, leak.size, dtS, 8)
      : firstOrder(this.#gas, this.#background, dtS, fan ? 8 : 40);
    this.temperature = firstOrder(
      this.temperature,
      this.#ambientT(t) - (fan ? AIR_QUALITY_FAN.coolingC : 0),
      dtS,
      AIR_QUALITY_FAN.tauS,
    );
    this.humidity = firstOrder(this.humidity, this.#baseRh - (fan ? 4 : 0), dtS, 20);
  }

  protected measure(now: number): Record<string, number> {
    const dht = this.readDht(now);
    return {
      gas: readMq2(this.seed, now, this.#gas, this.startedAt ?? now),
      temperature: dht.temperature,
      humidity: dht.humidity,
    };
  }

  truth(): Record<string, number> {
    return { gas: this.#gas, temperature: this.temperature, humidity: this.humidity };
  }
}
