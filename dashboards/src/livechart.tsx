/** Live charts of a kit's sensors: the last minutes from the store, then every reading over MQTT. */
import type { ECharts } from 'echarts/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { sensorUnit } from '../../protocol/index.ts';
import { get } from './api.ts';
import { Chart, type ChartOption, PALETTE, Window } from './chart.tsx';
import { sensorLabel } from './i18n.ts';
import { follow, topics } from './live.ts';
import { bySensorRank } from './sensors.ts';
import type { Telemetry, TelemetryMessage } from './types.ts';

export function messageTime(message: TelemetryMessage): number {
  if (typeof message.ts === 'number') return message.ts;
  if (typeof message.ts === 'string') {
    const parsed = Date.parse(message.ts);
    if (!Number.isNaN(parsed)) return parsed;
  }
  return Date.now();
}

/** Numeric readings of a telemetry message (booleans as 1/0, as the store keeps them). */
export function readingsOf(message: TelemetryMessage): [string, number][] {
  const out: [string, number][] = [];
  for (const [sensor, value] of Object.entries(message.readings ?? {})) {
    if (typeof value === 'number' && Number.isFinite(value)) out.push([sensor, value]);
    else if (typeof value === 'boolean') out.push([sensor, value ? 1 : 0]);
  }
  return out;
}

function SensorChart(props: {
  kitId: string;
  sensor: string;
  unit: string | null;
  window: Window;
  color: string;
}) {
  const chart = useRef<ECharts | null>(null);
  const figure = useRef<HTMLElement>(null);
  const onReady = useCallback((instance: ECharts | null) => {
    chart.current = instance;
  }, []);
  const option = useMemo<ChartOption>(
    () => ({
      animation: false,
      grid: { left: 44, right: 12, top: 28, bottom: 24 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'time', splitNumber: 4, axisLabel: { hideOverlap: true } },
      yAxis: { type: 'value', scale: true, name: props.unit ?? '', nameTextStyle: { align: 'left' } },
      series: [
        {
          type: 'line',
          name: props.sensor,
          showSymbol: false,
          data: props.window.points,
          lineStyle: { width: 1.5, color: props.color },
          itemStyle: { color: props.color },
        },
      ],
    }),
    [props.sensor, props.unit, props.color, props.window],
  );
  useEffect(() => {
    // Redraw once a second with what arrived: one setOption per chart, whatever the message rate.
    const timer = setInterval(() => {
      const now = Date.now();
      props.window.trim(now);
      chart.current?.setOption(
        { xAxis: { min: now - props.window.spanMs, max: now }, series: [{ data: props.window.points }] },
        { lazyUpdate: true },
      );
      // How many points the chart draws, for tests and for anyone inspecting the page.
      if (figure.current) figure.current.dataset.points = String(props.window.points.length);
    }, 1000);
    return () => clearInterval(timer);
  }, [props.window]);
  return (
    <figure ref={figure} class="sensor" data-test={`chart-${props.kitId}-${props.sensor}`}>
      <figcaption>
        {sensorLabel(props.sensor)}
        {props.unit ? ` (${props.unit})` : ''}
      </figcaption>
      <Chart option={option} height={180} onReady={onReady} label={props.sensor} />
    </figure>
  );
}

/**
 * Every sensor of a kit as its own chart. Sensors that appear only in live data get a chart when
 * their first reading arrives. `onReading` sees every live reading (for "last reading" displays).
 */
export function KitLiveCharts(props: {
  kitId: string;
  sensors: string[];
  units: Record<string, string | null>;
  minutes?: number;
  onReading?: (sensor: string, ts: number, value: number) => void;
}) {
  const spanMs = (props.minutes ?? 10) * 60_000;
  const windows = useRef(new Map<string, Window>());
  const [sensors, setSensors] = useState<string[]>(props.sensors);
  const windowOf = (sensor: string) => {
    let window = windows.current.get(sensor);
    if (!window) {
      window = new Window(spanMs);
      windows.current.set(sensor, window);
    }
    return window;
  };
  const { kitId, onReading } = props;

  useEffect(() => {
    let stopped = false;
    const to = Date.now();
    for (const sensor of props.sensors) {
      const window = windowOf(sensor);
      get<Telemetry>(
        `/kits/${encodeURIComponent(kitId)}/telemetry?sensor=${sensor}&from=${to - spanMs}&to=${to}&limit=5000`,
      ).then(
        (answer) => {
          if (stopped) return;
          for (const point of answer.points ?? []) window.add(point.ts, point.value);
        },
        () => {},
      );
    }
    return () => {
      stopped = true;
    };
    // Dependencies on purpose: history loads once per kit.
  }, [kitId]);

  useEffect(
    () =>
      follow([topics.kit(kitId, 'telemetry')], (payload) => {
        const message = payload as TelemetryMessage;
        const ts = messageTime(message);
        let added = false;
        for (const [sensor, value] of readingsOf(message)) {
          if (!windows.current.has(sensor)) added = true;
          windowOf(sensor).add(ts, value);
          onReading?.(sensor, ts, value);
        }
        if (added) setSensors([...windows.current.keys()].sort(bySensorRank));
      }),
    // Dependencies on purpose: one subscription per kit.
    [kitId, onReading],
  );

  const shown = [...new Set([...props.sensors, ...sensors])].sort(bySensorRank);
  return (
    <div class="charts">
      {shown.map((sensor, i) => (
        <SensorChart
          key={sensor}
          kitId={kitId}
          sensor={sensor}
          // A sensor without a reading when the page opened still has its unit: the protocol knows it.
          unit={props.units[sensor] ?? sensorUnit(sensor) ?? null}
          window={windowOf(sensor)}
          color={PALETTE[i % PALETTE.length] as string}
        />
      ))}
    </div>
  );
}
