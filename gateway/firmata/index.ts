/** StandardFirmata boards read and driven through johnny-five: the pin map and the kit. */
export * from './errors.ts';
export * from './kit.ts';
export * from './pin-map.ts';
