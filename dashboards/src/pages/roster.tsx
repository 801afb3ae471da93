/** A class's roster (import a CSV from the registrar's Excel), its teams, and which kit is bound to whom. */
import { useState } from 'preact/hooks';
import { ApiError, call, get } from '../api.ts';
import { pick, t } from '../i18n.ts';
import type {
  RosterImport as ImportResult,
  Kit,
  List,
  Page,
  RosterStudent,
  RowError as RowProblem,
  Team,
} from '../types.ts';
import { Card, Dot, ErrorBox, Loading, useAsync } from '../ui.tsx';
import { ClassTabs } from './instructor.tsx';

function RowProblems(props: { rows: RowProblem[]; class: string; test: string }) {
  return (
    <ul class={props.class} data-test={props.test}>
      {props.rows.map((row, i) => (
        <li key={i} data-problem={row.problem}>
          {t('rowProblem', { n: row.row, problem: pick(row.message) })}
        </li>
      ))}
    </ul>
  );
}

export function Roster({ classId }: { classId: string }) {
  const students = useAsync(
    () => get<Page<RosterStudent>>(`/classes/${classId}/students?limit=200`),
    [classId],
  );
  const teams = useAsync(() => get<Page<Team>>(`/classes/${classId}/teams?limit=200`), [classId]);
  const kits = useAsync(() => get<List<Kit>>('/kits?limit=200'), []);
  return (
    <div class="stack">
      <h1>{t('rosterAndKits')}</h1>
      <ClassTabs classId={classId} active="roster" />
      <div class="grid two">
        <RosterImport
          classId={classId}
          onDone={() => {
            students.reload();
            teams.reload();
          }}
        />
        <Card title={t('teams')} test="teams">
          <ErrorBox error={teams.error} />
          {teams.loading && !teams.data ? <Loading /> : null}
          <ul class="plain">
            {teams.data?.items.map((team) => (
              <li key={team.id}>
                <strong>{team.name}</strong>{' '}
                <span class="muted">{team.members.map((m) => m.displayName).join('、')}</span>
              </li>
            ))}
          </ul>
          <NewTeam classId={classId} onDone={teams.reload} />
        </Card>
      </div>
      <KitBindings
        classId={classId}
        kits={kits.data?.items ?? []}
        teams={teams.data?.items ?? []}
        students={students.data?.items ?? []}
        onDone={kits.reload}
      />
      <Card title={t('roster', { n: students.data?.total ?? 0 })} test="roster">
        <ErrorBox error={students.error} />
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>{t('studentNumber')}</th>
                <th>{t('name')}</th>
                <th>{t('username')}</th>
                <th>{t('team')}</th>
              </tr>
            </thead>
            <tbody>
              {students.data?.items.map((s) => (
                <tr key={s.id}>
                  <td>{s.studentNumber}</td>
                  <td>{s.displayName}</td>
                  <td>{s.username}</td>
                  <td>{s.teamName ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </div>
  );
}

function RosterImport({ classId, onDone }: { classId: string; onDone: () => void }) {
  const [text, setText] = useState('学号,姓名\n');
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setResult(null);
    try {
      const { body } = await call<ImportResult>('POST', `/classes/${classId}/roster`, {
        raw: file ?? text,
        contentType: 'text/csv',
      });
      setResult(body);
      onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  const rowErrors =
    error instanceof ApiError && Array.isArray(error.details.rows)
      ? (error.details.rows as RowProblem[])
      : [];
  return (
    <Card title={t('importRoster')} test="roster-import">
      <form class="stack" onSubmit={submit}>
        <p class="muted small">{t('rosterHint')}</p>
        <label>
          {t('csvFile')}
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <label>
          {t('orPaste')}
          <textarea
            name="roster"
            rows={5}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            disabled={file !== null}
          />
        </label>
        <ErrorBox error={error} />
        {rowErrors.length > 0 ? (
          <RowProblems rows={rowErrors} class="error small" test="roster-errors" />
        ) : null}
        <button type="submit">{t('import')}</button>
      </form>
      {result ? (
        <div class="note" data-test="import-result">
          <p>
            {t('importDone', {
              rows: result.rows,
              created: result.created.length,
              enrolled: result.enrolled.length,
              already: result.alreadyEnrolled.length,
            })}
          </p>
          {result.warnings.length > 0 ? (
            <>
              <p class="small">{t('importWarnings')}</p>
              <RowProblems rows={result.warnings} class="small" test="import-warnings" />
            </>
          ) : null}
          {result.created.length > 0 ? (
            <>
              <p class="small">{t('initialPasswordsOnce')}</p>
              <table class="small">
                <tbody>
                  {result.created.map((c) => (
                    <tr key={c.username}>
                      <td>{c.studentNumber}</td>
                      <td>{c.displayName}</td>
                      <td>
                        <code>{c.initialPassword}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}

function NewTeam({ classId, onDone }: { classId: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);
  return (
    <form
      class="row"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(null);
        try {
          await call('POST', `/classes/${classId}/teams`, { body: { name } });
          setName('');
          onDone();
        } catch (failure) {
          setError(failure);
        }
      }}
    >
      <input
        aria-label={t('teamName')}
        placeholder={t('teamName')}
        value={name}
        onInput={(e) => setName(e.currentTarget.value)}
        required
      />
      <button type="submit">{t('addTeam')}</button>
      <ErrorBox error={error} />
    </form>
  );
}

function KitBindings(props: {
  classId: string;
  kits: Kit[];
  teams: Team[];
  students: RosterStudent[];
  onDone: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const teamName = new Map(props.teams.map((team) => [team.id, team.name]));
  const studentName = new Map(props.students.map((s) => [s.id, s.displayName]));
  const bind = async (kitId: string, value: string) => {
    setError(null);
    try {
      const body =
        value === ''
          ? null
          : value.startsWith('s:')
            ? // This class: a student may be in several of the instructor's classes.
              { studentId: value.slice(2), classId: props.classId }
            : { teamId: value.slice(2) };
      await call('PUT', `/kits/${encodeURIComponent(kitId)}/binding`, {
        raw: JSON.stringify(body),
        contentType: 'application/json',
      });
      props.onDone();
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <Card title={t('kitBinding')} test="kit-binding">
      <ErrorBox error={error} />
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>{t('kit')}</th>
              <th>{t('status')}</th>
              <th>{t('boundTo')}</th>
            </tr>
          </thead>
          <tbody>
            {props.kits.map((kit) => {
              const current = kit.binding?.teamId
                ? `t:${kit.binding.teamId}`
                : kit.binding?.studentId
                  ? `s:${kit.binding.studentId}`
                  : '';
              const elsewhere =
                current !== '' && !teamName.has(current.slice(2)) && !studentName.has(current.slice(2));
              return (
                <tr key={kit.id} data-test={`bind-${kit.id}`}>
                  <td>
                    <code>{kit.id}</code> {kit.name}
                  </td>
                  <td>
                    <Dot
                      on={kit.connection?.online ?? false}
                      label={kit.connection?.online ? t('online') : t('offline')}
                    />
                  </td>
                  <td>
                    <select
                      value={elsewhere ? 'other' : current}
                      onChange={(e) => bind(kit.id, e.currentTarget.value)}
                      aria-label={t('boundTo')}
                    >
                      <option value="">{t('unbound')}</option>
                      {elsewhere ? <option value="other">{t('boundElsewhere')}</option> : null}
                      <optgroup label={t('teams')}>
                        {props.teams.map((team) => (
                          <option key={team.id} value={`t:${team.id}`}>
                            {team.name}
                          </option>
                        ))}
                      </optgroup>
                      <optgroup label={t('students')}>
                        {props.students.map((s) => (
                          <option key={s.id} value={`s:${s.id}`}>
                            {s.studentNumber} {s.displayName}
                          </option>
                        ))}
                      </optgroup>
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
