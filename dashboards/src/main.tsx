import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, login, logout, onSessionChange, type Role, type Session, session } from './api.ts';
import { currentLang, onLangChange, setLang, t } from './i18n.ts';
import { connectLive, type LiveState, liveState, onLiveState } from './live.ts';
import { ClassBoard, ClassReview, InstructorHome } from './pages/instructor.tsx';
import { Leaderboard } from './pages/leaderboard.tsx';
import { MentorHome, MentorTask } from './pages/mentor.tsx';
import { AttemptReview } from './pages/review.tsx';
import { Roster } from './pages/roster.tsx';
import { StudentHome } from './pages/student.tsx';
import { match, navigate, usePath } from './router.ts';
import { ErrorBox, useAsync } from './ui.tsx';
import './styles.css';

const HOME: Record<Role, string> = {
  student: '/student',
  instructor: '/instructor',
  admin: '/instructor',
  mentor: '/mentor',
};

/** Which roles may open which pages (the API enforces the same on every call). */
const PAGES: {
  pattern: string;
  roles: Role[];
  render: (params: Record<string, string>) => preact.JSX.Element;
}[] = [
  { pattern: '/student', roles: ['student'], render: () => <StudentHome /> },
  { pattern: '/instructor', roles: ['instructor', 'admin'], render: () => <InstructorHome /> },
  {
    pattern: '/instructor/class/:id',
    roles: ['instructor', 'admin'],
    render: (p) => <ClassBoard classId={p.id as string} />,
  },
  {
    pattern: '/instructor/class/:id/review',
    roles: ['instructor', 'admin'],
    render: (p) => <ClassReview classId={p.id as string} />,
  },
  {
    pattern: '/instructor/class/:id/roster',
    roles: ['instructor', 'admin'],
    render: (p) => <Roster classId={p.id as string} />,
  },
  {
    pattern: '/review/:attemptId',
    roles: ['instructor', 'admin', 'mentor', 'student'],
    render: (p) => <AttemptReview attemptId={p.attemptId as string} />,
  },
  { pattern: '/mentor', roles: ['mentor', 'admin'], render: () => <MentorHome /> },
  {
    pattern: '/mentor/task/:id',
    roles: ['mentor', 'admin', 'instructor'],
    render: (p) => <MentorTask taskId={p.id as string} />,
  },
  {
    pattern: '/board/:sessionId',
    roles: ['instructor', 'admin', 'student'],
    render: (p) => <Leaderboard sessionId={p.sessionId as string} />,
  },
];

function Login() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      const signed = await login(username.trim(), password);
      navigate(HOME[signed.user.role]);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <form class="card" onSubmit={submit} data-test="login">
        <h1>{t('appTitle')}</h1>
        <p class="muted">{t('loginHint')}</p>
        <label>
          {t('username')}
          <input
            name="username"
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
            required
          />
        </label>
        <label>
          {t('password')}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" disabled={busy}>
          {t('signIn')}
        </button>
        <LangSwitch />
      </form>
    </main>
  );
}

function LangSwitch() {
  const other = currentLang() === 'en' ? 'zh-CN' : 'en';
  return (
    <button type="button" class="link lang" data-test="lang" onClick={() => setLang(other)}>
      {other === 'en' ? 'English' : '中文'}
    </button>
  );
}

/**
 * The flow editor (Node-RED), opened signed in: the editor keeps its token in localStorage
 * (`auth-tokens-flows`), so it gets this login's token there instead of asking again (and instead
 * of a token in the URL, which the platform refuses). Shown when the platform runs the editor and
 * this person may open it.
 */
function FlowsLink({ me }: { me: Session }) {
  const settings = useAsync(
    () => get<{ studentAccess: 'none' | 'read'; editorPath: string }>('/flows/settings').catch(() => null),
    [],
  );
  const editor = settings.data;
  if (!editor || (me.user.role === 'student' && editor.studentAccess === 'none')) return null;
  const open = (event: Event) => {
    event.preventDefault();
    const expiresIn = Math.max(0, Math.round((me.expiresAt - Date.now()) / 1000));
    localStorage.setItem(
      `auth-tokens${editor.editorPath.replace(/\/$/, '').replaceAll('/', '-')}`,
      JSON.stringify({ access_token: me.token, expires_in: expiresIn, token_type: 'Bearer' }),
    );
    window.location.assign(editor.editorPath);
  };
  return (
    <a href={editor.editorPath} onClick={open} data-test="open-flows">
      {t('navFlows')}
    </a>
  );
}

function Header({ me }: { me: Session }) {
  const [live, setLive] = useState<LiveState>(liveState());
  useEffect(() => onLiveState(setLive), []);
  const role = me.user.role;
  return (
    <header class="top">
      <a class="brand" href={`#${HOME[role]}`}>
        {t('appTitle')}
      </a>
      <nav>
        {role === 'student' ? <a href="#/student">{t('navStudent')}</a> : null}
        {role === 'instructor' || role === 'admin' ? <a href="#/instructor">{t('navInstructor')}</a> : null}
        {role === 'mentor' || role === 'admin' ? <a href="#/mentor">{t('navMentor')}</a> : null}
        <FlowsLink me={me} />
      </nav>
      <span class={`live ${live}`} data-test="live-state" title={t(`live_${live}`)}>
        {t(`live_${live}`)}
      </span>
      <span class="who">
        {me.user.displayName} · {t(`role_${role}`)}
      </span>
      <LangSwitch />
      <button
        type="button"
        class="link"
        onClick={() => {
          void logout().then(() => navigate('/login'));
        }}
      >
        {t('signOut')}
      </button>
    </header>
  );
}

function App() {
  const [, setLangTick] = useState(0);
  const [me, setMe] = useState<Session | null>(session());
  const path = usePath();
  useEffect(() => onLangChange(() => setLangTick((n) => n + 1)), []);
  useEffect(
    () =>
      onSessionChange(() => {
        setMe(session());
      }),
    [],
  );
  useEffect(() => connectLive(me), [me]);

  if (!me) return <Login />;
  if (path === '/' || path === '/login') {
    navigate(HOME[me.user.role]);
    return null;
  }
  let page: preact.JSX.Element = (
    <main>
      <p class="error">{t('notFound')}</p>
    </main>
  );
  for (const candidate of PAGES) {
    const params = match(candidate.pattern, path);
    if (!params) continue;
    page = candidate.roles.includes(me.user.role) ? (
      <main>{candidate.render(params)}</main>
    ) : (
      <main>
        <p class="error" role="alert" data-test="forbidden">
          {t('forbiddenPage')}
        </p>
      </main>
    );
    break;
  }
  const bigScreen = path.startsWith('/board/');
  return (
    <div class={bigScreen ? 'app big' : 'app'} key={currentLang()}>
      <Header me={me} />
      {page}
    </div>
  );
}

document.documentElement.lang = currentLang();
render(<App />, document.getElementById('app') as HTMLElement);
