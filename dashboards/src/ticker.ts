/**
 * One timer for every live view, each view called once a second. Views are spread over ten slots
 * of 100 ms, so a board of 40 charts redraws four at a time instead of all 40 in one long frame.
 */
const SLOTS = 10;
const slots: Set<(now: number) => void>[] = Array.from({ length: SLOTS }, () => new Set());
let next = 0;
let count = 0;
let timer: ReturnType<typeof setInterval> | undefined;
let tick = 0;

export function onTick(callback: (now: number) => void): () => void {
  const slot = slots[next] as Set<(now: number) => void>;
  next = (next + 1) % SLOTS;
  slot.add(callback);
  count++;
  timer ??= setInterval(() => {
    tick = (tick + 1) % SLOTS;
    const now = Date.now();
    for (const fn of slots[tick] as Set<(now: number) => void>) fn(now);
  }, 1000 / SLOTS);
  return () => {
    if (!slot.delete(callback)) return;
    count--;
    if (count === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
