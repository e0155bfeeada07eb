// The console's shell: sign-in (single sign-on when the engine has it, as GET /auth/config says; pasting an API token
// always), the caller's roles (GET /api/v1/users/me), the navigation each role sees, and hash routes (#/workspaces,
// #/audit?q=...) so that a view can be bookmarked without a token in it.
import { LitElement, html, nothing } from 'lit';
import { Api, ApiError, authConfig, signInHint, tokenStore } from './api.js';
import { navigate } from './ui.js';
import './pages/workspaces.js';
import './pages/workspace.js';
import './pages/templates.js';
import './pages/audit.js';
import './pages/costs.js';
import './pages/idle.js';
import './pages/operations.js';

/**
 * Pages by role. The API enforces every permission on its own; this only keeps people from pages that would
 * answer 403. `feature` names an API path that must exist (pages of APIs that a running engine may not have yet),
 * looked up in the engine's OpenAPI document rather than by calling it: a probe answered 404 or 405 would show as
 * an error in the browser console and, for 405, in the audit trail.
 */
export const PAGES = [
  { id: 'workspaces', title: 'Workspaces', roles: ['member', 'owner'], tag: 'ws-list-page' },
  { id: 'templates', title: 'Templates', roles: ['template-admin', 'owner'], tag: 'template-list-page' },
  { id: 'audit', title: 'Audit trail', roles: ['auditor', 'owner'], tag: 'audit-page' },
  { id: 'costs', title: 'Costs', roles: ['finance', 'owner'], tag: 'costs-page' },
  { id: 'idle', title: 'Idle', roles: ['owner', 'finance'], tag: 'idle-page' },
  { id: 'dead-letters', title: 'Dead letters', roles: ['owner'], tag: 'dead-letters-page',
    feature: { path: '/api/v1/dead-letters', method: 'get' } },
  { id: 'users', title: 'Users', roles: ['owner'], tag: 'users-page', feature: { path: '/api/v1/users', method: 'get' } },
  { id: 'tokens', title: 'Tokens', roles: ['owner'], tag: 'tokens-page', feature: { path: '/api/v1/tokens', method: 'get' } },
];

/** Sub-pages reached from a list: #/workspaces/{id}, #/templates/{id}, #/templates/new. */
const DETAIL = { workspaces: 'ws-detail-page', templates: 'template-detail-page' };

function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = hash.split('?');
  const [page = '', id = null] = path.split('/').map(decodeURIComponent);
  return { page, id, params: Object.fromEntries(new URLSearchParams(search)) };
}

async function availablePaths() {
  try {
    const response = await fetch('/v3/api-docs', { headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const doc = await response.json();
    return doc.paths || {};
  } catch (e) {
    return null;
  }
}

class AtelierConsole extends LitElement {
  static properties = {
    session: { state: true },
    route: { state: true },
    loginError: { state: true },
    busy: { state: true },
    auth: { state: true },
  };

  /** What the engine's redirect after a refused single sign-on (/?login=…) means. */
  static LOGIN_OUTCOMES = {
    refused: 'The engine refused the sign-in: your user is suspended. An owner can activate you again.',
    failed: 'The sign-in at the identity provider did not succeed. Try again, or paste an API token.',
  };

  constructor() {
    super();
    this.route = parseHash();
    this.session = null;
    window.addEventListener('hashchange', () => {
      this.route = parseHash();
    });
  }

  createRenderRoot() {
    return this;
  }

  connectedCallback() {
    super.connectedCallback();
    const outcome = new URLSearchParams(window.location.search).get('login');
    if (outcome) {
      // Back from a refused single sign-on: say why, and keep the address clean for bookmarks.
      signInHint.clear();
      this.loginError = AtelierConsole.LOGIN_OUTCOMES[outcome] || AtelierConsole.LOGIN_OUTCOMES.failed;
      window.history.replaceState(null, '', `/${window.location.hash}`);
    }
    this.busy = true;
    authConfig().then((auth) => {
      this.auth = auth;
      const token = tokenStore.get();
      if (token) return this.login(token, true);
      if (auth.browserLogin && signInHint.get()) return this.login(null, true);
      this.busy = false;
      return null;
    });
  }

  /** Signs in with `token`, or with the session cookie of the single sign-on when `token` is null. */
  async login(token, resumed = false) {
    this.busy = true;
    this.loginError = resumed ? this.loginError : null;
    const expired = token ? 'The engine no longer accepts this token; paste a valid one.'
      : 'Your session ended (signed out, expired or suspended); sign in again.';
    // A session ended by the engine says why (suspended); anything else is the same for the person signing in.
    const ended = (e) => (!token && e && e.detail && e.detail.startsWith('the session ended') ? e.detail : expired);
    const api = new Api(token, (e) => this.logout(ended(e), false),
      token ? null : this.auth.csrf);
    try {
      const [me, paths] = await Promise.all([api.get('/api/v1/users/me'), availablePaths()]);
      if (token) tokenStore.set(token);
      const roles = me.roles || [];
      const allowed = (page) => page.roles.some((r) => roles.includes(r))
        && (!page.feature || (paths && paths[page.feature.path] && paths[page.feature.path][page.feature.method]));
      this.session = { api, me, roles, pages: PAGES.filter(allowed) };
      if (!this.session.pages.some((p) => p.id === this.route.page)) {
        navigate(`#/${this.session.pages.length ? this.session.pages[0].id : ''}`);
      }
    } catch (e) {
      if (token) tokenStore.clear(); else signInHint.clear();
      this.session = null;
      this.loginError = resumed ? this.loginError : (e instanceof ApiError ? e.detail : String(e));
    } finally {
      this.busy = false;
    }
  }

  /** Starts the single sign-on: the browser goes to the identity provider and comes back to / with a session. */
  signInWithProvider() {
    tokenStore.clear();
    signInHint.set();
    this.busy = true;
    window.location.assign(this.auth.loginUrl);
  }

  /**
   * Signs out: forgets the token, or ends the session at the engine (POST /logout with the CSRF token).
   * @param endSession false when the engine already ended it (a 401)
   */
  async logout(message = null, endSession = true) {
    const api = this.session && this.session.api;
    tokenStore.clear();
    signInHint.clear();
    this.session = null;
    this.loginError = message;
    if (api && api.session && endSession) {
      this.busy = true;
      await api.logout(this.auth.logoutUrl || '/logout');
      this.busy = false;
    }
  }

  onLogin(event) {
    event.preventDefault();
    const token = new FormData(event.target).get('token').trim();
    if (token) this.login(token);
  }

  updated(changed) {
    if (changed.has('route') || changed.has('session')) {
      const page = this.currentPage();
      document.title = page ? `${page.title} · Atelier` : 'Atelier';
    }
  }

  currentPage() {
    return this.session && this.session.pages.find((p) => p.id === this.route.page);
  }

  /** The single sign-on button, when the engine has a browser login; named after the provider. */
  renderProviderLogin() {
    const auth = this.auth;
    if (!auth || !auth.browserLogin || !auth.loginUrl) return nothing;
    let provider = auth.providerName;
    if (!provider) {
      try {
        provider = new URL(auth.issuer).hostname;
      } catch (e) {
        provider = 'single sign-on';
      }
    }
    return html`
      <div class="sso">
        <button class="primary" type="button" id="sign-in-sso" @click=${() => this.signInWithProvider()}
                ?disabled=${this.busy}>Sign in with ${provider}</button>
        ${auth.issuerReachable === false ? html`<p class="hint">The identity provider does not answer just now.</p>`
          : nothing}
      </div>
      <p class="or"><span>or</span></p>`;
  }

  renderLogin() {
    const sso = this.auth && this.auth.browserLogin;
    return html`
      <main id="main" class="login">
        <form class="card login-card" @submit=${this.onLogin} aria-describedby="login-help">
          <h1 tabindex="-1">Atelier</h1>
          ${this.loginError ? html`<p class="error" role="alert">${this.loginError}</p>` : nothing}
          ${this.renderProviderLogin()}
          <p id="login-help">Paste an Atelier API token. On first start the engine prints the bootstrap admin token
            once; owners issue tokens for others (<code>POST /api/v1/tokens</code>). The token stays in this browser
            tab only and is sent in the <code>Authorization</code> header, never in a URL.</p>
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
                 placeholder="atl_…" ?disabled=${this.busy}>
          <button class=${sso ? 'secondary' : 'primary'} type="submit" ?disabled=${this.busy}>${this.busy
            ? 'Signing in…' : sso ? 'Sign in with the token' : 'Sign in'}</button>
        </form>
      </main>`;
  }

  renderPage() {
    const { page, id, params } = this.route;
    const entry = this.currentPage();
    const { api, me } = this.session;
    if (!entry) {
      const known = PAGES.find((p) => p.id === page);
      return html`<section><h1 tabindex="-1">Not available</h1>
        <p>${known ? html`<strong>${known.title}</strong> is not available for ${me.name}
          (roles: ${this.session.roles.join(', ') || 'none'})${known.feature ? ' or this engine has no such API yet' : ''}.`
          : 'There is no such page.'}</p></section>`;
    }
    const tag = id && DETAIL[page] ? DETAIL[page] : entry.tag;
    const element = document.createElement(tag);
    element.api = api;
    element.session = this.session;
    element.params = { ...params, id };
    return element;
  }

  render() {
    if (!this.session) return this.busy && (tokenStore.get() || signInHint.get() || !this.auth)
      ? html`<main id="main" class="login"><p>Signing in…</p></main>` : this.renderLogin();
    const current = this.route.page;
    return html`
      <header class="top">
        <a class="brand" href="#/${this.session.pages[0] ? this.session.pages[0].id : ''}">Atelier</a>
        <nav aria-label="Main">
          <ul>
            ${this.session.pages.map((p) => html`<li><a href="#/${p.id}" data-page=${p.id}
              aria-current=${p.id === current ? 'page' : 'false'}>${p.title}</a></li>`)}
          </ul>
        </nav>
        <div class="who">
          <span class="user" title="roles: ${this.session.roles.join(', ')}" data-user=${this.session.me.id}
            data-signed-in=${this.session.api.session ? 'session' : 'token'}>${this.session.me.name}
            <small>(${this.session.roles.join(', ') || 'no roles'})</small></span>
          <button type="button" class="secondary" @click=${() => this.logout()}>Sign out</button>
        </div>
      </header>
      <main id="main">${this.pageElement()}</main>`;
  }

  /** One element per route: re-created when the route changes, kept while only its state changes. */
  pageElement() {
    const key = `${this.route.page}/${this.route.id || ''}?${new URLSearchParams(this.route.params)}`;
    if (this.cachedKey !== key || this.cachedSession !== this.session) {
      this.cachedKey = key;
      this.cachedSession = this.session;
      this.cached = this.renderPage();
    }
    return this.cached;
  }
}

customElements.define('atelier-console', AtelierConsole);
