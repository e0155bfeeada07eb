// The console's shell: login (paste an API token), the caller's roles (GET /api/v1/users/me), the navigation each
// role sees, and hash routes (#/workspaces, #/audit?q=...) so that a view can be bookmarked without a token in it.
import { LitElement, html, nothing } from 'lit';
import { Api, ApiError, tokenStore } from './api.js';
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
    const token = tokenStore.get();
    if (token) this.login(token, true);
  }

  async login(token, resumed = false) {
    this.busy = true;
    this.loginError = null;
    const api = new Api(token, () => this.logout('The engine no longer accepts this token; paste a valid one.'));
    try {
      const [me, paths] = await Promise.all([api.get('/api/v1/users/me'), availablePaths()]);
      tokenStore.set(token);
      const roles = me.roles || [];
      const allowed = (page) => page.roles.some((r) => roles.includes(r))
        && (!page.feature || (paths && paths[page.feature.path] && paths[page.feature.path][page.feature.method]));
      this.session = { api, me, roles, pages: PAGES.filter(allowed) };
      if (!this.session.pages.some((p) => p.id === this.route.page)) {
        navigate(`#/${this.session.pages.length ? this.session.pages[0].id : ''}`);
      }
    } catch (e) {
      tokenStore.clear();
      this.loginError = resumed ? null : (e instanceof ApiError ? e.detail : String(e));
    } finally {
      this.busy = false;
    }
  }

  logout(message = null) {
    tokenStore.clear();
    this.session = null;
    this.loginError = message;
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

  renderLogin() {
    return html`
      <main id="main" class="login">
        <form class="card login-card" @submit=${this.onLogin} aria-describedby="login-help">
          <h1 tabindex="-1">Atelier</h1>
          <p id="login-help">Paste an Atelier API token. On first start the engine prints the bootstrap admin token
            once; owners issue tokens for others (<code>POST /api/v1/tokens</code>). The token stays in this browser
            tab only and is sent in the <code>Authorization</code> header, never in a URL.</p>
          <label for="token">API token</label>
          <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required
                 placeholder="atl_…" ?disabled=${this.busy}>
          ${this.loginError ? html`<p class="error" role="alert">${this.loginError}</p>` : nothing}
          <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
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
    if (!this.session) return this.busy && tokenStore.get() ? html`<main id="main" class="login"><p>Signing in…</p></main>`
      : this.renderLogin();
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
          <span class="user" title="roles: ${this.session.roles.join(', ')}">${this.session.me.name}
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
