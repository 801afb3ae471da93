/** The cold-chain kit: its profile and the physics of the cold room it measures. */
import { DhtEnvironment } from './environment.ts';
import { dailyWave, Episodes, firstOrder } from './processes.ts';
import { dht22Sensors, type FanEffect, type Profile } from './profile.ts';

export const COLD_CHAIN_FAN: FanEffect = { coolingC: 2, tauS: 25 };

export const COLD_CHAIN_PROFILE: Profile = {
  name: 'cold-chain',
  description:
    'DHT22 in a cold room (3 °C); door openings warm it; alarm and buzzer above 8 °C (cleared below 7 °C)',
  sensors: dht22Sensors(4, 80),
  actuators: ['compressor', 'fan', 'buzzer'],
  initialActuators: { compressor: 1, fan: 0, buzzer: 0 },
  alarm: { sensor: 'temperature', above: 8, clearBelow: 7, actuators: ['buzzer'], event: 'alarm' },
  events: ['door'],
  fan: COLD_CHAIN_FAN,
};

/**
 * Cold room: the compressor holds ≈3 °C (τ 60 s, 25 s with the fan, which also lowers it 2 °C);
 * switched off, the room warms towards the corridor's ≈24 °C (τ 400 s, so 8 °C is crossed after
 * about 1.5 min). Doors open every few minutes for 5–60 s: warm air comes in (τ 60 s), so only
 * a door left open for most of a minute crosses 8 °C.
 */
export class ColdChainEnvironment extends DhtEnvironment {
  // The room's constants, drawn from its own 'params' stream in this order: a seed names one room.
  readonly #params = this.stream('params');
  readonly #setpoint = this.#params.uniform(2.5, 3.5);
  readonly #roomT = this.#params.uniform(22, 26);
  readonly #insideRh = this.#params.uniform(75, 85);
  #doors!: Episodes;
  #doorOpen = false;

  #room(t: number): number {
    return this.#roomT + 2 * dailyWave(t, this.offset);
  }

  #targetT(t: number): number {
    const fan = this.on('fan');
    const cold = this.#setpoint - (fan ? COLD_CHAIN_FAN.coolingC : 0);
    const closed = this.on('compressor') ? cold : this.#room(t);
    return this.#doorOpen ? closed + 0.4 * (this.#room(t) - closed) : closed;
  }

  protected init(now: number): void {
    this.#doors = new Episodes(this.stream('doors'), now, {
      meanGapS: 300,
      minGapS: 10,
      durationS: [5, 60],
      size: [0, 1],
    });
    this.#doorOpen = this.#doors.at(now) !== undefined;
    this.temperature = this.#targetT(now);
    this.humidity = this.#insideRh;
  }

  protected tick(t: number, dtS: number): void {
    const open = this.#doors.at(t) !== undefined;
    if (open !== this.#doorOpen) {
      this.#doorOpen = open;
      this.pending.push({ event: 'door', value: open ? 1 : 0 });
    }
    const compressor = this.on('compressor');
    const fan = this.on('fan');
    const tau = open ? 60 : compressor ? (fan ? COLD_CHAIN_FAN.tauS : 60) : 400;
    this.temperature = firstOrder(this.temperature, this.#targetT(t), dtS, tau);
    const rhTarget = (open ? this.#insideRh + 0.5 * (50 - this.#insideRh) : this.#insideRh) - (fan ? 5 : 0);
    this.humidity = firstOrder(this.humidity, rhTarget, dtS, 30);
  }

  protected measure(now: number): Record<string, number> {
    return this.readDht(now);
  }

  truth(): Record<string, number> {
    return { temperature: this.temperature, humidity: this.humidity, door: this.#doorOpen ? 1 : 0 };
  }
}
