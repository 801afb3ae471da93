/** Every kit profile, and the environment each one's kit is simulated in. */
import { AIR_QUALITY_PROFILE, AirQualityEnvironment } from './air-quality.ts';
import { COLD_CHAIN_PROFILE, ColdChainEnvironment } from './cold-chain.ts';
import type { Environment, EnvironmentClass, EnvironmentOptions } from './environment.ts';
import { GREENHOUSE_PROFILE, GreenhouseEnvironment } from './greenhouse.ts';
import type { Profile } from './profile.ts';
import { SECURITY_PROFILE, SecurityEnvironment } from './security.ts';

const FAMILIES: readonly { profile: Profile; Environment: EnvironmentClass }[] = [
  { profile: GREENHOUSE_PROFILE, Environment: GreenhouseEnvironment },
  { profile: COLD_CHAIN_PROFILE, Environment: ColdChainEnvironment },
  { profile: SECURITY_PROFILE, Environment: SecurityEnvironment },
  { profile: AIR_QUALITY_PROFILE, Environment: AirQualityEnvironment },
];

export const PROFILES: Readonly<Record<string, Profile>> = Object.fromEntries(
  FAMILIES.map(({ profile }) => [profile.name, profile]),
);

export const PROFILE_NAMES: readonly string[] = Object.keys(PROFILES);

export function getProfile(name: string): Profile | undefined {
  return Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
}

/** The environment of a profile; the kit is powered on at the first `read`. */
export function createEnvironment(
  profile: string,
  seed: number,
  options: EnvironmentOptions = {},
): Environment {
  const family = FAMILIES.find((candidate) => candidate.profile.name === profile);
  if (!family) {
    throw new Error(`unknown profile "${profile}" (known: ${PROFILE_NAMES.join(', ')})`);
  }
  return new family.Environment(family.profile, seed, options);
}
