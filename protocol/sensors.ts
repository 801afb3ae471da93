/**
 * Known sensors and actuator states: kind (sensor or actuator), unit, label and the range a working
 * part can report.
 * A value outside its range is still stored (it is what the hardware said, and grading needs
 * to see it), but the kit is warned on its error topic. Any other snake_case name is allowed.
 * Labels and units are the one source for the names people read (grading's sentences, the
 * dashboards): {@link sensorLabel} and {@link sensorUnit} also name derived sensors
 * (`temperature_smooth`: "温度（平滑）", °C).
 */
export interface SensorText {
  en: string;
  'zh-CN': string;
}

/** What a name stands for: a measured quantity, or an output the kit drives (its state or position). */
export type SensorKind = 'sensor' | 'actuator';

export interface SensorSpec {
  /**
   * `actuator`: an output the kit drives, reported as its state (fan 0/1, a servo's angle) —
   * rubrics name it in `requiredActuators`, grading does not check it for authenticity, dashboards
   * show it after the measurements.
   */
  kind: SensorKind;
  unit: string;
  min: number;
  max: number;
  /** The part students usually wire for it. */
  part: string;
  description: SensorText;
  /**
   * Its name in a sentence: Chinese, and English in lower case unless a proper name or an
   * abbreviation (`temperature`, `CO₂`, `LED`); {@link capitalized} for the start of a sentence
   * or a heading.
   */
  label: SensorText;
  /** A state (0/1) read as words: actuators 开/关 (on/off), motion 有人/无人. */
  states?: { on: SensorText; off: SensorText };
}

const ON_OFF = { on: { en: 'on', 'zh-CN': '开' }, off: { en: 'off', 'zh-CN': '关' } } as const;

export const KNOWN_SENSORS: Readonly<Record<string, SensorSpec>> = {
  temperature: {
    kind: 'sensor',
    unit: '°C',
    min: -40,
    max: 80,
    part: 'DHT22 / AM2302',
    description: { en: 'Air temperature', 'zh-CN': '空气温度' },
    label: { en: 'temperature', 'zh-CN': '温度' },
  },
  humidity: {
    kind: 'sensor',
    unit: '%RH',
    min: 0,
    max: 100,
    part: 'DHT22 / AM2302',
    description: { en: 'Relative humidity', 'zh-CN': '相对湿度' },
    label: { en: 'humidity', 'zh-CN': '湿度' },
  },
  light: {
    kind: 'sensor',
    unit: 'lx',
    min: 0,
    max: 100000,
    part: 'LDR (photoresistor) or BH1750',
    description: { en: 'Illuminance', 'zh-CN': '光照强度' },
    label: { en: 'light', 'zh-CN': '光照' },
  },
  soil_moisture: {
    kind: 'sensor',
    unit: '%',
    min: 0,
    max: 100,
    part: 'capacitive soil moisture sensor',
    description: { en: 'Soil moisture', 'zh-CN': '土壤湿度' },
    label: { en: 'soil moisture', 'zh-CN': '土壤湿度' },
  },
  distance: {
    kind: 'sensor',
    unit: 'cm',
    min: 2,
    max: 400,
    part: 'HC-SR04',
    description: { en: 'Distance to the nearest object', 'zh-CN': '超声波测距' },
    label: { en: 'distance', 'zh-CN': '距离' },
  },
  motion: {
    kind: 'sensor',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'HC-SR501 PIR',
    description: { en: 'Motion detected (1) or not (0)', 'zh-CN': '人体红外（1 有人，0 无人）' },
    label: { en: 'motion', 'zh-CN': '人体感应' },
    states: { on: { en: 'motion', 'zh-CN': '有人' }, off: { en: 'none', 'zh-CN': '无人' } },
  },
  gas: {
    kind: 'sensor',
    unit: 'ppm',
    min: 0,
    max: 10000,
    part: 'MQ-2',
    description: { en: 'Combustible gas / smoke', 'zh-CN': '可燃气体 / 烟雾浓度' },
    label: { en: 'gas', 'zh-CN': '可燃气体' },
  },
  pressure: {
    kind: 'sensor',
    unit: 'hPa',
    min: 300,
    max: 1100,
    part: 'BMP280',
    description: { en: 'Air pressure', 'zh-CN': '气压' },
    label: { en: 'pressure', 'zh-CN': '气压' },
  },
  co2: {
    kind: 'sensor',
    unit: 'ppm',
    min: 0,
    max: 10000,
    part: 'MH-Z19',
    description: { en: 'CO₂ concentration', 'zh-CN': '二氧化碳浓度' },
    label: { en: 'CO₂', 'zh-CN': '二氧化碳' },
  },
  sound: {
    kind: 'sensor',
    unit: 'dB',
    min: 0,
    max: 140,
    part: 'sound level module',
    description: { en: 'Sound level', 'zh-CN': '声音强度' },
    label: { en: 'sound level', 'zh-CN': '声音' },
  },
  rssi: {
    kind: 'sensor',
    unit: 'dBm',
    min: -120,
    max: 0,
    part: 'ESP32 Wi-Fi',
    description: { en: 'Wi-Fi signal strength', 'zh-CN': 'Wi-Fi 信号强度' },
    label: { en: 'signal strength', 'zh-CN': '信号强度' },
  },
  battery: {
    kind: 'sensor',
    unit: '%',
    min: 0,
    max: 100,
    part: 'battery monitor',
    description: { en: 'Battery level', 'zh-CN': '电池电量' },
    label: { en: 'battery', 'zh-CN': '电池电量' },
  },
  fan: {
    kind: 'actuator',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'fan on a relay',
    description: { en: 'Fan state (actuator)', 'zh-CN': '风扇状态（执行器）' },
    label: { en: 'fan', 'zh-CN': '风扇' },
    states: ON_OFF,
  },
  pump: {
    kind: 'actuator',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'water pump on a relay',
    description: { en: 'Pump state (actuator)', 'zh-CN': '水泵状态（执行器）' },
    label: { en: 'pump', 'zh-CN': '水泵' },
    states: ON_OFF,
  },
  led: {
    kind: 'actuator',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'LED',
    description: { en: 'LED state (actuator)', 'zh-CN': 'LED 状态（执行器）' },
    label: { en: 'LED', 'zh-CN': '指示灯' },
    states: ON_OFF,
  },
  relay: {
    kind: 'actuator',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'relay module',
    description: { en: 'Relay state (actuator)', 'zh-CN': '继电器状态（执行器）' },
    label: { en: 'relay', 'zh-CN': '继电器' },
    states: ON_OFF,
  },
  buzzer: {
    kind: 'actuator',
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'active buzzer',
    description: { en: 'Buzzer state (actuator)', 'zh-CN': '蜂鸣器状态（执行器）' },
    label: { en: 'buzzer', 'zh-CN': '蜂鸣器' },
    states: ON_OFF,
  },
  servo: {
    kind: 'actuator',
    unit: '°',
    min: 0,
    max: 180,
    part: 'SG90 servo',
    description: { en: 'Servo angle (actuator)', 'zh-CN': '舵机角度（执行器）' },
    label: { en: 'servo', 'zh-CN': '舵机' },
  },
};

/** Sensor names: snake_case, starting with a letter. */
export const SENSOR_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

/** Names the stores use themselves (InfluxDB's time column and the kit tag). */
export const RESERVED_SENSOR_NAMES: ReadonlySet<string> = new Set(['time', 'kit']);

/** Whether a name can be used for a sensor. */
export function isValidSensorName(name: string): boolean {
  return SENSOR_NAME_PATTERN.test(name) && !RESERVED_SENSOR_NAMES.has(name);
}

/** Most sensors one message may carry. */
export const MAX_SENSORS_PER_MESSAGE = 64;

/**
 * Largest magnitude of any value the platform stores (readings, event and command values). No
 * sensor reports more, and sums of such values stay finite, so means and the other aggregates are
 * always numbers (1e308 twice would overflow to Infinity).
 */
export const MAX_VALUE_MAGNITUDE = 1e15;

/** Whether a number is finite and within ±{@link MAX_VALUE_MAGNITUDE}. */
export function isStorableValue(value: number): boolean {
  return Number.isFinite(value) && Math.abs(value) <= MAX_VALUE_MAGNITUDE;
}

export function sensorSpec(name: string): SensorSpec | undefined {
  return Object.hasOwn(KNOWN_SENSORS, name) ? KNOWN_SENSORS[name] : undefined;
}

/** Whether the name is a known actuator (its spec's `kind`): a fan, a pump, a servo… */
export function isActuator(name: string): boolean {
  return sensorSpec(name)?.kind === 'actuator';
}

/** The known actuators, in the order of {@link KNOWN_SENSORS}. */
export const ACTUATOR_NAMES: readonly string[] = Object.keys(KNOWN_SENSORS).filter(isActuator);

/**
 * The measurements people look at first, in this order (dashboards list a kit's sensors so: these,
 * then any other sensor, then the actuators' states).
 */
export const SENSOR_DISPLAY_ORDER: readonly string[] = [
  'temperature',
  'humidity',
  'light',
  'soil_moisture',
  'gas',
  'co2',
  'distance',
  'pressure',
  'motion',
];

/**
 * Suffixes of derived sensors (a Node-RED flow publishing `temperature_smooth` back to the kit):
 * the same quantity in the base sensor's unit, labelled "温度（平滑）" / "temperature (smoothed)".
 */
export const DERIVED_SUFFIXES: Readonly<Record<string, SensorText>> = {
  smooth: { en: 'smoothed', 'zh-CN': '平滑' },
  smoothed: { en: 'smoothed', 'zh-CN': '平滑' },
  avg: { en: 'mean', 'zh-CN': '平均' },
  mean: { en: 'mean', 'zh-CN': '平均' },
  median: { en: 'median', 'zh-CN': '中位数' },
  min: { en: 'minimum', 'zh-CN': '最小值' },
  max: { en: 'maximum', 'zh-CN': '最大值' },
  filtered: { en: 'filtered', 'zh-CN': '滤波' },
  clean: { en: 'cleaned', 'zh-CN': '清洗后' },
  cleaned: { en: 'cleaned', 'zh-CN': '清洗后' },
  calibrated: { en: 'calibrated', 'zh-CN': '校准后' },
  raw: { en: 'raw', 'zh-CN': '原始' },
};

/** A derived sensor's known base and suffix (`temperature_smooth` → temperature, smooth), or undefined. */
export function derivedSensor(name: string): { base: string; suffix: string } | undefined {
  const cut = name.lastIndexOf('_');
  if (cut <= 0) return undefined;
  const base = name.slice(0, cut);
  const suffix = name.slice(cut + 1);
  if (!Object.hasOwn(DERIVED_SUFFIXES, suffix) || !sensorSpec(base)) return undefined;
  return { base, suffix };
}

const labels = new Map<string, SensorText>();

/**
 * How people read a sensor's name: its label (温度 / temperature), a derived sensor's from its
 * base ("温度（平滑）" / "temperature (smoothed)"), else the name itself. English in lower case
 * as inside a sentence ({@link capitalized} for the start of one).
 */
export function sensorLabel(name: string): SensorText {
  let label = labels.get(name);
  if (label) return label;
  const spec = sensorSpec(name);
  const derived = spec ? undefined : derivedSensor(name);
  if (spec) label = spec.label;
  else if (derived) {
    const base = (sensorSpec(derived.base) as SensorSpec).label;
    const how = DERIVED_SUFFIXES[derived.suffix] as SensorText;
    label = { en: `${base.en} (${how.en})`, 'zh-CN': `${base['zh-CN']}（${how['zh-CN']}）` };
  } else label = { en: name, 'zh-CN': name };
  if (labels.size < 1_000) labels.set(name, label);
  return label;
}

/** The unit of a known sensor, or of a derived one's base; undefined for others. */
export function sensorUnit(name: string): string | undefined {
  const spec = sensorSpec(name);
  if (spec) return spec.unit;
  const derived = derivedSensor(name);
  return derived && sensorSpec(derived.base)?.unit;
}

/** The words for a state sensor's 1 and 0 (actuators: 开/关, on/off), or undefined. */
export function sensorStates(name: string): SensorSpec['states'] {
  return sensorSpec(name)?.states;
}

/** A label as a heading or the start of a sentence: its first letter in upper case. */
export function capitalized(text: string): string {
  return text.length > 0 ? text[0]?.toUpperCase() + text.slice(1) : text;
}

/**
 * Turns a free-form label (as Arduino sketches print them: "Temp", "soil moisture", "light(lx)")
 * into a sensor name, or `undefined` when nothing usable is left.
 */
export function normalizeSensorLabel(label: string): string | undefined {
  const name = label
    .trim()
    .replace(/\(.*?\)|\[.*?\]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return SENSOR_NAME_PATTERN.test(name) ? name : undefined;
}
