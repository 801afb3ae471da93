/** Small shared pieces: loading data, errors, status dots. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { t } from './i18n.ts';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on `reload()`); the last answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  // Dependencies on purpose: the caller names the dependencies.
  useEffect(() => {
    const run = ++latest.current;
    setLoading(true);
    load().then(
      (value) => {
        if (run !== latest.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (run !== latest.current) return;
        setError(failure);
        setLoading(false);
      },
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}

/**
 * What went wrong, for the reader: the API's message, already in the UI's language (api.ts sends
 * Accept-Language). The code is for programs and support: ErrorBox keeps it in a tooltip.
 */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message || t('httpError', { status: error.status });
  return error instanceof Error ? error.message : String(error);
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <div class="error" role="alert" title={code} data-code={code}>
      {errorText(error)}
    </div>
  );
}

export function Loading() {
  return <p class="muted">{t('loading')}</p>;
}

export function Dot({ on, label }: { on: boolean; label?: string }) {
  return (
    <span class={`dot ${on ? 'on' : 'off'}`} title={label}>
      <span class="sr">{label}</span>
    </span>
  );
}

export function Card(props: {
  title?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  test?: string;
}) {
  return (
    <section class={`card ${props.class ?? ''}`} data-test={props.test}>
      {props.title ? <h2>{props.title}</h2> : null}
      {props.children}
    </section>
  );
}

/** Re-renders every `ms` (for "5 s ago" and staleness). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/**
 * A button for something that cannot be undone (ending a class's lab session, an attempt): the
 * first click asks, saying what will happen; only the second, on "confirm", acts.
 */
export function ConfirmButton(props: {
  label: string;
  /** What will happen, in the reader's words. */
  question: string;
  confirm: string;
  onConfirm: () => void;
  test?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)} data-test={props.test}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm" role="alertdialog" aria-label={props.question} data-test="confirm">
      <span>{props.question}</span>
      <button
        type="button"
        class="danger"
        data-test="confirm-yes"
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirm}
      </button>
      <button type="button" class="secondary" data-test="confirm-no" onClick={() => setAsking(false)}>
        {t('cancel')}
      </button>
    </span>
  );
}
