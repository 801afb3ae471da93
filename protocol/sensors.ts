/**
 * Known sensors and actuator states: unit and the range a working part can report.
 * A value outside its range is still stored (it is what the hardware said, and grading needs
 * to see it), but the kit is warned on its error topic. Any other snake_case name is allowed.
 */
export interface SensorSpec {
  unit: string;
  min: number;
  max: number;
  /** The part students usually wire for it. */
  part: string;
  description: { en: string; 'zh-CN': string };
}

export const KNOWN_SENSORS: Readonly<Record<string, SensorSpec>> = {
  temperature: {
    unit: '°C',
    min: -40,
    max: 80,
    part: 'DHT22 / AM2302',
    description: { en: 'Air temperature', 'zh-CN': '空气温度' },
  },
  humidity: {
    unit: '%RH',
    min: 0,
    max: 100,
    part: 'DHT22 / AM2302',
    description: { en: 'Relative humidity', 'zh-CN': '相对湿度' },
  },
  light: {
    unit: 'lx',
    min: 0,
    max: 100000,
    part: 'LDR (photoresistor) or BH1750',
    description: { en: 'Illuminance', 'zh-CN': '光照强度' },
  },
  soil_moisture: {
    unit: '%',
    min: 0,
    max: 100,
    part: 'capacitive soil moisture sensor',
    description: { en: 'Soil moisture', 'zh-CN': '土壤湿度' },
  },
  distance: {
    unit: 'cm',
    min: 2,
    max: 400,
    part: 'HC-SR04',
    description: { en: 'Distance to the nearest object', 'zh-CN': '超声波测距' },
  },
  motion: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'HC-SR501 PIR',
    description: { en: 'Motion detected (1) or not (0)', 'zh-CN': '人体红外（1 有人，0 无人）' },
  },
  gas: {
    unit: 'ppm',
    min: 0,
    max: 10000,
    part: 'MQ-2',
    description: { en: 'Combustible gas / smoke', 'zh-CN': '可燃气体 / 烟雾浓度' },
  },
  pressure: {
    unit: 'hPa',
    min: 300,
    max: 1100,
    part: 'BMP280',
    description: { en: 'Air pressure', 'zh-CN': '气压' },
  },
  co2: {
    unit: 'ppm',
    min: 0,
    max: 10000,
    part: 'MH-Z19',
    description: { en: 'CO₂ concentration', 'zh-CN': '二氧化碳浓度' },
  },
  sound: {
    unit: 'dB',
    min: 0,
    max: 140,
    part: 'sound level module',
    description: { en: 'Sound level', 'zh-CN': '声音强度' },
  },
  rssi: {
    unit: 'dBm',
    min: -120,
    max: 0,
    part: 'ESP32 Wi-Fi',
    description: { en: 'Wi-Fi signal strength', 'zh-CN': 'Wi-Fi 信号强度' },
  },
  battery: {
    unit: '%',
    min: 0,
    max: 100,
    part: 'battery monitor',
    description: { en: 'Battery level', 'zh-CN': '电池电量' },
  },
  fan: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'fan on a relay',
    description: { en: 'Fan state (actuator)', 'zh-CN': '风扇状态（执行器）' },
  },
  pump: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'water pump on a relay',
    description: { en: 'Pump state (actuator)', 'zh-CN': '水泵状态（执行器）' },
  },
  led: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'LED',
    description: { en: 'LED state (actuator)', 'zh-CN': 'LED 状态（执行器）' },
  },
  relay: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'relay module',
    description: { en: 'Relay state (actuator)', 'zh-CN': '继电器状态（执行器）' },
  },
  buzzer: {
    unit: '0/1',
    min: 0,
    max: 1,
    part: 'active buzzer',
    description: { en: 'Buzzer state (actuator)', 'zh-CN': '蜂鸣器状态（执行器）' },
  },
  servo: {
    unit: '°',
    min: 0,
    max: 180,
    part: 'SG90 servo',
    description: { en: 'Servo angle (actuator)', 'zh-CN': '舵机角度（执行器）' },
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
