/**
 * Every VARCHAR(n) column of the lab database, and what keeps a longer value out of it. SQLite
 * ignores the length; PostgreSQL refuses a longer value with an error, which would reach a person as
 * a 500 or a stack trace. A new column fails here until it is listed with what guards it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as contract from '../../contract/index.ts';
import { MAX_NAME_LENGTH, STUDENT_NUMBER_PATTERN } from '../../lab-api/roster.ts';
import {
  KIT_KINDS,
  KIT_NAME_MAX_LENGTH,
  MIGRATIONS_DIR,
  SERVICE_DESCRIPTION_MAX_LENGTH,
  SERVICE_NAME_PATTERN,
  SERVICE_SCOPES,
  USB_SERIAL_MAX_LENGTH,
} from '../../labdb/index.ts';
import { KIT_ID_PATTERN } from '../../protocol/index.ts';

/** `table.column` → n, from CREATE TABLE and ALTER TABLE … ADD COLUMN of every migration. */
function varcharColumns(): Map<string, number> {
  const columns = new Map<string, number>();
  for (const file of readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql'))) {
    let table = '';
    for (const line of readFileSync(join(MIGRATIONS_DIR, file), 'utf8').split('\n')) {
      const code = line.replace(/--.*/, '');
      table = /CREATE TABLE (\w+)/.exec(code)?.[1] ?? table;
      const added = /ALTER TABLE (\w+) ADD COLUMN (\w+) VARCHAR\((\d+)\)/.exec(code);
      const declared = /^\s*(\w+) VARCHAR\((\d+)\)/.exec(code);
      if (added) columns.set(`${added[1]}.${added[2]}`, Number(added[3]));
      else if (declared) columns.set(`${table}.${declared[1]}`, Number(declared[2]));
    }
  }
  return columns;
}

/** The longest run of `char` a pattern accepts. */
function longest(pattern: string | RegExp, char = 'a'): number {
  const regex = new RegExp(pattern);
  let most = 0;
  for (let n = 1; n <= 1000; n++) if (regex.test(char.repeat(n))) most = n;
  return most;
}

const most = (schema: { maxLength?: number | undefined }) => schema.maxLength ?? Number.POSITIVE_INFINITY;
const literals = (schema: { anyOf: { const: string }[] }) => schema.anyOf.map((member) => member.const);

type Guard =
  /** What people give: the most each way in lets through (API schemas, registry and CLI checks). */
  | { given: readonly number[] }
  /** Fixed words the code writes. */
  | { words: readonly string[] }
  /** What the platform makes: the reason it always fits. */
  | { generated: string };

const { properties: newUser } = contract.NewUserBody;
const { properties: userChanges } = contract.UserChanges;
const { properties: newOrganisation } = contract.NewOrganisationBody;
const { properties: organisationChanges } = contract.OrganisationChanges;

const GUARDS: Record<string, Guard> = {
  'kits.id': { given: [longest(KIT_ID_PATTERN)] },
  'kits.name': { given: [KIT_NAME_MAX_LENGTH, most(contract.NewKitBody.properties.name)] },
  'kits.kind': { words: KIT_KINDS },
  'kits.usb_serial': { given: [USB_SERIAL_MAX_LENGTH] },
  'service_accounts.name': { given: [longest(SERVICE_NAME_PATTERN)] },
  'service_accounts.description': { given: [SERVICE_DESCRIPTION_MAX_LENGTH] },
  'service_accounts.scopes': { words: [SERVICE_SCOPES.join(',')] },
  'organisations.kind': { words: literals(contract.OrganisationKind) },
  'organisations.name': { given: [most(newOrganisation.name), most(organisationChanges.name)] },
  'organisations.name_en': { given: [most(newOrganisation.nameEn), most(organisationChanges.nameEn)] },
  'organisations.industry': { given: [most(newOrganisation.industry), most(organisationChanges.industry)] },
  // A roster import makes the student number the username.
  'users.username': {
    given: [
      contract.USERNAME_MAX_LENGTH,
      longest(contract.USERNAME_PATTERN),
      most(contract.LoginBody.properties.username),
      longest(STUDENT_NUMBER_PATTERN, '1'),
    ],
  },
  'users.display_name': {
    given: [
      contract.DISPLAY_NAME_MAX_LENGTH,
      most(newUser.displayName),
      most(userChanges.displayName),
      MAX_NAME_LENGTH,
    ],
  },
  'users.role': { words: contract.ROLES },
  'users.student_number': {
    given: [
      contract.STUDENT_NUMBER_MAX_LENGTH,
      longest(newUser.studentNumber.pattern ?? '', '1'),
      longest(STUDENT_NUMBER_PATTERN, '1'),
    ],
  },
  'users.email': { given: [contract.EMAIL_MAX_LENGTH, most(newUser.email), most(userChanges.email)] },
  'audit_log.actor_kind': { words: ['user', 'service'] },
  'audit_log.actor_id': { generated: "a user's id, or the name of a service or of the code (cli)" },
  'audit_log.actor_role': { words: [...contract.ROLES, 'service'] },
  'audit_log.entity': { generated: 'words of the code (user, kit-binding…)' },
  'audit_log.entity_id': { generated: 'the id of a row, or a kit id' },
  'audit_log.action': { generated: 'words of the code (create, update+password…)' },
  'mentor_profiles.availability': { given: [most(contract.MentorProfileBody.properties.availability)] },
  'projects.title': {
    given: [most(contract.NewProjectBody.properties.title), most(contract.ProjectChanges.properties.title)],
  },
  'projects.status': { words: contract.PUBLICATION_STATUSES },
  'lab_tasks.title': {
    given: [most(contract.NewTaskBody.properties.title), most(contract.TaskChanges.properties.title)],
  },
  'lab_tasks.status': { words: contract.PUBLICATION_STATUSES },
  // Nothing writes evidence yet; it will come from the tasks' skill tags.
  'skill_evidence.skill': { given: [most(contract.SkillTag)] },
  'skill_evidence.source': { generated: '"task:<id>"' },
  'classes.name': {
    given: [most(contract.NewClassBody.properties.name), most(contract.ClassChanges.properties.name)],
  },
  'classes.term': {
    given: [most(contract.NewClassBody.properties.term), most(contract.ClassChanges.properties.term)],
  },
  'teams.name': {
    given: [most(contract.NewTeamBody.properties.name), most(contract.TeamChanges.properties.name)],
  },
  'grade_runs.reason': { words: literals(contract.GradeReason) },
  'grade_runs.created_by': { generated: 'a user id, "service:<name>" cut to 64, or "system"' },
  'grade_overrides.criterion_id': { given: [most(contract.OverrideBody.properties.criterionId)] },
};

/** Ids the platform makes (UUIDs) or of rows that exist, hashes it computes, who did it (a user id). */
const GENERATED = /(^|\.|_)id$|_hash$|_by$/;

describe('VARCHAR(n) columns of the lab database', () => {
  const columns = varcharColumns();

  it('are read from the migrations, columns added later included', () => {
    expect(columns.get('service_accounts.description')).toBe(200);
    expect(columns.get('kits.usb_serial')).toBe(100);
    expect(columns.get('kit_bindings.class_id')).toBe(36);
    expect(columns.size).toBeGreaterThan(80);
  });

  it('each take every value a person can give or the platform writes', () => {
    const problems: string[] = [];
    for (const [column, length] of columns) {
      const guard = GUARDS[column];
      if (!guard) {
        if (!GENERATED.test(column)) problems.push(`${column}: list what keeps a longer value out`);
      } else if ('given' in guard) {
        if (guard.given.length === 0) problems.push(`${column}: nothing checks it`);
        for (const limit of guard.given) {
          if (limit > length) problems.push(`${column} VARCHAR(${length}) lets ${limit} characters in`);
        }
      } else if ('words' in guard) {
        for (const word of guard.words) {
          if (word.length > length) problems.push(`${column} VARCHAR(${length}) is too short for "${word}"`);
        }
      }
    }
    for (const column of Object.keys(GUARDS)) {
      if (!columns.has(column)) problems.push(`${column} is no VARCHAR column`);
    }
    expect(problems).toEqual([]);
  });

  it("have the length constants of their checks at the column's length", () => {
    const constants = {
      'kits.name': KIT_NAME_MAX_LENGTH,
      'kits.usb_serial': USB_SERIAL_MAX_LENGTH,
      'service_accounts.description': SERVICE_DESCRIPTION_MAX_LENGTH,
      'users.username': contract.USERNAME_MAX_LENGTH,
      'users.display_name': contract.DISPLAY_NAME_MAX_LENGTH,
      'users.student_number': contract.STUDENT_NUMBER_MAX_LENGTH,
      'users.email': contract.EMAIL_MAX_LENGTH,
    };
    expect(constants).toEqual(
      Object.fromEntries(Object.keys(constants).map((column) => [column, columns.get(column)])),
    );
  });
});
