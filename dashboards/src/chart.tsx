/**
 * Charts: `Chart` owns one ECharts instance per element (ECharts itself is loaded on first use, see
 * echarts.ts); live views keep their data outside Preact and hand ECharts only what changed
 * (`lazyUpdate`: at most one redraw a frame).
 */
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  DataZoomComponentOption,
  GridComponentOption,
  MarkAreaComponentOption,
  TooltipComponentOption,
} from 'echarts/components';
import type * as echarts from 'echarts/core';
import { useEffect, useRef } from 'preact/hooks';
import { currentLang } from './i18n.ts';

let loading: Promise<typeof import('./echarts.ts')> | undefined;
const loadECharts = () => {
  loading ??= import('./echarts.ts');
  return loading;
};

export type ChartOption = echarts.ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | MarkAreaComponentOption
  | DataZoomComponentOption
>;

export type Point = [number, number];

/** A chart that follows `option`; `onReady` gets the instance for live updates. */
export function Chart(props: {
  option: ChartOption;
  height?: number;
  class?: string;
  label?: string;
  onReady?: (chart: echarts.ECharts | null) => void;
}) {
  const element = useRef<HTMLDivElement>(null);
  const instance = useRef<echarts.ECharts | null>(null);
  const { onReady } = props;
  const option = useRef(props.option);
  option.current = props.option;
  useEffect(() => {
    const el = element.current;
    if (!el) return;
    let chart: echarts.ECharts | null = null;
    let observer: ResizeObserver | null = null;
    let gone = false;
    loadECharts().then(({ init }) => {
      if (gone) return;
      chart = init(el, undefined, { locale: currentLang() === 'en' ? 'EN' : 'ZH' });
      const ready = chart;
      instance.current = ready;
      ready.setOption(option.current);
      observer = new ResizeObserver(() => ready.resize());
      observer.observe(el);
      onReady?.(ready);
    });
    return () => {
      gone = true;
      if (!chart) return;
      onReady?.(null);
      observer?.disconnect();
      chart.dispose();
      instance.current = null;
    };
  }, [onReady]);
  useEffect(() => {
    instance.current?.setOption(props.option, { lazyUpdate: true });
  }, [props.option]);
  return (
    <div
      ref={element}
      class={`chart ${props.class ?? ''}`}
      role="img"
      aria-label={props.label}
      style={{ height: `${props.height ?? 220}px` }}
    />
  );
}

/** Readings of one sensor kept for a sliding window; old points fall off (no growth over hours). */
export class Window {
  readonly points: Point[] = [];
  constructor(readonly spanMs: number) {}

  add(ts: number, value: number): void {
    const last = this.points[this.points.length - 1];
    if (last && ts < last[0]) {
      // Out of order (history arriving after live points): insert in place.
      const at = this.points.findIndex((p) => p[0] > ts);
      this.points.splice(at, 0, [ts, value]);
    } else {
      this.points.push([ts, value]);
    }
    this.trim();
  }

  trim(now = Date.now()): void {
    const cutoff = now - this.spanMs;
    let drop = 0;
    while (drop < this.points.length && (this.points[drop] as Point)[0] < cutoff) drop++;
    if (drop > 0) this.points.splice(0, drop);
  }
}

export const PALETTE = [
  '#2f7ed8',
  '#e4572e',
  '#17a673',
  '#9b59b6',
  '#f0a202',
  '#0aa1b5',
  '#8c564b',
  '#d62f8c',
];
