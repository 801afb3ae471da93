/** The lab API: the fastify application (routes, schemas, errors), built without listening. */

export {
  DEVICE_COOKIE,
  deviceCookie,
  deviceFromCookies,
  type LabSignIn,
  labSignIn,
  PasswordChecks,
  type SignInFrom,
  type SignInResult,
} from './accounts.ts';
export { type AppDeps, buildApp, type KitConnection } from './app.ts';
export { recordAudit } from './audit.ts';
export {
  type Access,
  hashToken,
  type Person,
  type Principal,
  ROLES,
  type Role,
  routeAccessTable,
} from './auth.ts';
export { type AttemptsEndedListener, AutomaticGrading } from './auto-grading.ts';
export { Assignments, Classes } from './classes/index.ts';
export { ApiError, type ErrorBody } from './errors.ts';
export { COLUMNS, STATUS_WORDS } from './grades/index.ts';
export { RecentKitErrors } from './kit-errors.ts';
export { LabLiveSource } from './live-source.ts';
export { MqttPersonAccess } from './mqtt-access.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
export { People } from './people.ts';
export { LabTasks, MentorPool, Projects } from './projects/index.ts';
export { checkRubric } from './rubric.ts';
export {
  DEFAULT_SIGN_IN_LIMITS,
  type SignInClient,
  type SignInKey,
  SignInLimiter,
  type SignInLimitStore,
  type SignInLimits,
  secondsToWait,
  signInKeys,
} from './sign-in-limiter.ts';
