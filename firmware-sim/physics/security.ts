/** The security kit: its profile and the physics of the doorway it watches. */
import { BaseEnvironment } from './environment.ts';
import { PIR_HOLD_S, readHcSr04, readLdr } from './parts.ts';
import { daylight, Episodes } from './processes.ts';
import type { Profile } from './profile.ts';

export const SECURITY_PROFILE: Profile = {
  name: 'security',
  description: 'PIR, HC-SR04 across a doorway and LDR; alarm with buzzer and LED while the PIR sees motion',
  sensors: [
    { name: 'motion', part: 'PIR', resolution: 1, nominal: 0, swing: 1, spike: 1, binary: true },
    { name: 'distance', part: 'HC-SR04', resolution: 0.1, nominal: 200, swing: 50, spike: 150 },
    { name: 'light', part: 'LDR', resolution: 1, nominal: 300, swing: 100, spike: 2000 },
  ],
  actuators: ['buzzer', 'led'],
  initialActuators: { buzzer: 0, led: 0 },
  alarm: { sensor: 'motion', above: 0.5, clearBelow: 0.5, actuators: ['buzzer', 'led'], event: 'alarm' },
  events: [],
};

/**
 * Doorway: people pass about once a minute and stay 2–12 s at 40–160 cm; the PIR holds 1 for
 * 3 s after they leave; otherwise the HC-SR04 sees the far wall. Light from a window by day.
 */
export class SecurityEnvironment extends BaseEnvironment {
  // The room's constants, drawn from its own 'params' stream in this order: a seed names one room.
  readonly #params = this.stream('params');
  readonly #wall = this.#params.uniform(180, 320);
  readonly #peakLux = this.#params.uniform(400, 900);
  #visitors!: Episodes;
  #motion = 0;
  #distance = 0;
  #light = 0;
  #lastVisitEnd = Number.NEGATIVE_INFINITY;

  #update(t: number): void {
    const visitor = this.#visitors.at(t);
    if (visitor) this.#lastVisitEnd = visitor.end;
    this.#motion = visitor || t < this.#lastVisitEnd + PIR_HOLD_S * 1000 ? 1 : 0;
    this.#distance = visitor ? visitor.size + 10 * Math.sin((t - visitor.start) / 700) : this.#wall;
    this.#light = 5 + this.#peakLux * daylight(t, this.offset);
  }

  protected init(now: number): void {
    this.#visitors = new Episodes(this.stream('visitors'), now, {
      meanGapS: 55,
      minGapS: PIR_HOLD_S + 2,
      durationS: [2, 12],
      size: [40, 160],
    });
    this.#update(now);
  }

  protected tick(t: number): void {
    this.#update(t);
  }

  protected measure(now: number): Record<string, number> {
    return {
      motion: this.#motion,
      distance: readHcSr04(this.seed, now, this.#distance),
      light: readLdr(this.seed, now, this.#light),
    };
  }

  truth(): Record<string, number> {
    return { motion: this.#motion, distance: this.#distance, light: this.#light };
  }
}
