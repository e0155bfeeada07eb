// The console's only way to the engine: fetch() on the same origin, either with the API token in the Authorization
// header (never in a URL, so it cannot end up in a log, a history or a Referer) or, after the single sign-on login,
// with the engine's HttpOnly session cookie, whose writes carry the CSRF token (the XSRF-TOKEN cookie's value in the
// X-XSRF-TOKEN header, as /auth/config names them). Errors of the API are RFC 7807 problem+json; ApiError carries
// their `detail` for the page to show.
import { fetchEventSource } from 'fetch-event-source';

const TOKEN_KEY = 'atelier.token';
const SIGN_IN_KEY = 'atelier.signIn';
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

export class ApiError extends Error {
  constructor(status, detail, problem) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail || `the engine answered HTTP ${status}`;
    this.problem = problem;
  }
}

/** The token of this browser tab: kept in sessionStorage (gone when the tab closes), never in the URL. */
export const tokenStore = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/**
 * Whether this browser signed in through single sign-on: only a hint (no secret; the session itself is an HttpOnly
 * cookie the page cannot read), so that a reload asks the engine who is signed in instead of showing the sign-in page,
 * and a browser that never signed in does not ask (the 401 would be an error in the browser console).
 */
export const signInHint = {
  get: () => localStorage.getItem(SIGN_IN_KEY) === 'session',
  set: () => localStorage.setItem(SIGN_IN_KEY, 'session'),
  clear: () => localStorage.removeItem(SIGN_IN_KEY),
};

/** A cookie's value, for the CSRF token (the one cookie of the engine that is meant to be read by the page). */
export function cookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split('; ').find((c) => c.startsWith(prefix));
  return found ? decodeURIComponent(found.substring(prefix.length)) : null;
}

/**
 * What the engine says about signing in (GET /auth/config, open to everybody): `{sso: false}` without single sign-on,
 * else the login and logout URLs and the CSRF cookie and header. An engine that cannot say counts as no single sign-on.
 */
export async function authConfig() {
  try {
    const response = await fetch('/auth/config', { headers: { Accept: 'application/json' } });
    return response.ok ? await response.json() : { sso: false };
  } catch (e) {
    return { sso: false };
  }
}

/** Builds a query string from an object, leaving out empty values. */
export function query(params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    search.append(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

export class Api {
  /**
   * @param token          the API token; null when signed in with the session cookie
   * @param onUnauthorized called when the engine no longer accepts the token or session (revoked, expired, suspended)
   * @param csrf           with the session: {cookie, header} of the CSRF token, from /auth/config
   */
  constructor(token, onUnauthorized = () => {}, csrf = null) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.csrf = csrf;
  }

  /** Signed in with the session cookie rather than a token. */
  get session() {
    return !this.token;
  }

  headers(extra = {}, method = 'GET') {
    const headers = { ...extra };
    if (this.token) {
      headers.Authorization = `Bearer ${this.token}`;
    } else if (this.csrf && !SAFE_METHODS.includes(method)) {
      const value = cookie(this.csrf.cookie);
      if (value) headers[this.csrf.header] = value;
    }
    return headers;
  }

  /** Ends the session at the engine (POST logoutUrl with the CSRF token); the engine's redirect is not followed. */
  async logout(logoutUrl) {
    try {
      await fetch(logoutUrl, { method: 'POST', headers: this.headers({}, 'POST'), credentials: 'same-origin',
        redirect: 'manual' });
    } catch (e) {
      // The engine is gone: so is the session, as far as this page is concerned.
    }
  }

  async request(method, path, body) {
    const init = { method, headers: this.headers({ Accept: 'application/json' }, method), credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, 'the engine cannot be reached (network error); is it running?');
    }
    if (!response.ok) {
      throw await this.error(response);
    }
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? JSON.parse(text) : null;
  }

  async error(response) {
    let problem = null;
    try {
      problem = await response.json();
    } catch (e) {
      problem = null;
    }
    const error = new ApiError(response.status, problem && problem.detail, problem);
    if (response.status === 401) this.onUnauthorized(error);
    return error;
  }

  get(path, params) { return this.request('GET', path + query(params)); }
  post(path, body = {}) { return this.request('POST', path, body); }
  put(path, body = {}) { return this.request('PUT', path, body); }
  delete(path, params) { return this.request('DELETE', path + query(params)); }

  /**
   * Downloads a file the API streams (audit export, cost CSV) with the token in the header (or the session cookie),
   * and hands it to the browser as a download named as the engine's Content-Disposition says.
   */
  async download(path, params, fallbackName) {
    const response = await fetch(path + query(params), { headers: this.headers(), credentials: 'same-origin' });
    if (!response.ok) throw await this.error(response);
    const blob = await response.blob();
    const disposition = response.headers.get('Content-Disposition') || '';
    const match = /filename="([^"]+)"/.exec(disposition);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : fallbackName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    return link.download;
  }

  /**
   * Follows a server-sent event stream of the API (fetch-based, so that it carries the Authorization header that
   * EventSource cannot send). The library reconnects; we choose the delay: exponential back-off from 1 s to 30 s,
   * reset once a connection is open. `onOpen` runs each time the stream is (re)established, after the engine has
   * registered the subscription: a page reloads its state there, so that nothing between two connections is lost.
   *
   * @returns a function that closes the stream
   */
  watch(path, { onEvent, onOpen = () => {}, onState = () => {} }) {
    const controller = new AbortController();
    let failures = 0;
    const api = this;
    class RetriableError extends Error {}
    class FatalError extends Error {}
    fetchEventSource(path, {
      headers: this.headers(),
      signal: controller.signal,
      openWhenHidden: true,
      async onopen(response) {
        const type = response.headers.get('content-type') || '';
        if (response.ok && type.startsWith('text/event-stream')) {
          failures = 0;
          onState('live');
          onOpen();
          return;
        }
        const error = await api.error(response);
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          throw new FatalError(error.detail);
        }
        throw new RetriableError(error.detail);
      },
      onmessage(message) {
        if (!message.data) return;
        try {
          onEvent(JSON.parse(message.data), message.event);
        } catch (e) {
          console.warn('ignored an event that is not JSON', e);
        }
      },
      onclose() {
        // The engine ended the stream (restart, deploy): reconnect.
        throw new RetriableError('stream closed by the engine');
      },
      onerror(error) {
        if (error instanceof FatalError) {
          onState('failed', error.message);
          throw error;
        }
        failures += 1;
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
        onState('reconnecting', `reconnecting in ${Math.round(delay / 1000)} s`);
        return delay;
      },
    }).catch(() => {});
    return () => controller.abort();
  }
}
