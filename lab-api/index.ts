/** The lab API: the fastify application (routes, schemas, errors), built without listening. */

export {
  DEVICE_COOKIE,
  deviceCookie,
  deviceFromCookies,
  type LabAccount,
  type LabAccounts,
  labAccounts,
  PasswordChecks,
  type SignInFrom,
  type SignInResult,
} from './accounts.ts';
export { type AppDeps, buildApp, type KitConnection } from './app.ts';
export { recordAudit } from './audit.ts';
export { type Access, type Principal, ROLES, type Role, routeAccessTable } from './auth.ts';
export { ApiError, type ErrorBody } from './errors.ts';
export { RecentKitErrors } from './kit-errors.ts';
export { LabLiveSource } from './live-source.ts';
export { MqttUserAccess } from './mqtt-access.ts';
export { People } from './people.ts';
export {
  DEFAULT_SIGN_IN_LIMITS,
  type SignInClient,
  SignInLimiter,
  type SignInLimits,
} from './sign-in-limiter.ts';
