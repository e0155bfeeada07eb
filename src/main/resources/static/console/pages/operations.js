// Operators (role owner): dead letters, users and API tokens, on the engine's APIs (/api/v1/dead-letters,
// /api/v1/users, /api/v1/tokens; docs/operations.md, docs/security.md). The console shows a page only when the
// engine's OpenAPI document lists its path (an older engine may not have it). Everything that cannot be undone or
// that locks somebody out asks first.
import { html, nothing } from 'lit';
import { Page, timeCell, confirmDialog, copyText, emptyRow } from '../ui.js';

const ROLES = ['owner', 'template-admin', 'member', 'auditor', 'finance'];

/** A list page: loads on open and on Refresh; `rows` renders the items. */
class ListPage extends Page {
  static properties = { items: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  table(headings, items, row) {
    return html`<div class="table-wrap"><table class=${this.tableClass}>
      <thead><tr>${headings.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${!items ? emptyRow(headings.length, 'Loading…')
        : items.length === 0 ? emptyRow(headings.length, this.emptyText) : items.map(row)}</tbody></table></div>`;
  }
}

class DeadLettersPage extends ListPage {
  static properties = { counts: { state: true } };

  path = '/api/v1/dead-letters';
  tableClass = 'dead-letters';
  emptyText = 'No dead letters: every processor is handling its events.';

  async load() {
    const answer = await this.attempt(() => this.api.get(this.path, { limit: 500 }));
    if (answer !== undefined) {
      this.items = answer.deadLetters || [];
      this.counts = answer.counts || {};
    }
  }

  async retry(letter) {
    const answer = await this.attempt(() => this.api.post(`${this.path}/${encodeURIComponent(letter.id)}/retry`));
    if (answer) {
      this.notice = answer.handled ? 'Handled: the event and the rest of its sequence went through.'
        : `Still failing: ${answer.stillParked?.causeMessage || 'see the cause'}.`;
    }
    await this.load();
  }

  async evict(letter) {
    const ok = await confirmDialog({ title: 'Evict this dead letter?', danger: true, confirmLabel: 'Evict',
      message: html`The ${letter.eventType.replace(/^.*\./, '')} event is never handled by <strong>${letter.group}</strong>:
        its read model will not have it. The event itself stays in the event store.
        ${letter.group === 'audit' ? 'The audit trail records the gap.' : ''} This cannot be undone.` });
    if (!ok) return;
    await this.attempt(() => this.api.delete(`${this.path}/${encodeURIComponent(letter.id)}`), 'Evicted.');
    await this.load();
  }

  render() {
    const counts = Object.entries(this.counts || {});
    return html`<div class="page-head"><h1>Dead letters</h1>
        <button type="button" class="secondary" @click=${() => this.load()}>Refresh</button></div>
      ${this.messages()}
      <p class="hint">Events that a processor failed to handle again and again, set aside so that everything else goes on.
        Fix the cause, then <strong>Retry</strong> (the letter's whole sequence, oldest first); <strong>Evict</strong>
        gives an event up for good.</p>
      ${counts.length ? html`<p class="counts">${counts.map(([group, n]) => html`<span class="tag" data-group=${group}
        data-count=${n}>${group}: ${n}</span> `)}</p>` : nothing}
      ${this.table(['Group', 'Event', 'Aggregate', 'Cause', 'Parked', 'Last tried', 'Actions'], this.items,
        (l) => html`<tr data-id=${l.id} data-group=${l.group}>
          <td>${l.group}</td>
          <td><code title=${l.eventType}>${l.eventType.replace(/^.*\./, '')}</code>
            ${l.eventIndex !== null && l.eventIndex !== undefined ? html`<div class="kv">#${l.eventIndex}</div>` : nothing}</td>
          <td>${l.aggregateType || '—'}<div class="kv"><code>${l.aggregateId || l.sequence}</code></div></td>
          <td class="cause">${l.causeType || l.causeMessage
            ? html`<code>${(l.causeType || '').replace(/^.*\./, '')}</code> ${l.causeMessage || ''}`
            : html`<span class="hint">parked behind an earlier letter of the same aggregate</span>`}</td>
          <td>${timeCell(l.enqueuedAt)}</td>
          <td>${timeCell(l.lastTouched)}</td>
          <td><div class="row-actions">
            <button type="button" class="small" aria-label="Retry ${l.id}" @click=${() => this.retry(l)}>Retry</button>
            <button type="button" class="small danger" aria-label="Evict ${l.id}" @click=${() => this.evict(l)}>Evict</button>
          </div></td></tr>`)}`;
  }
}

class UsersPage extends ListPage {
  static properties = { next: { state: true } };

  path = '/api/v1/users';
  tableClass = 'users';
  emptyText = 'No users yet: they appear when they first sign in, or when an owner creates them.';

  async load(more = false) {
    const answer = await this.attempt(() => this.api.get(this.path, { limit: 100, cursor: more ? this.next : null }));
    if (answer !== undefined) {
      this.items = more ? [...(this.items || []), ...answer.users] : answer.users;
      this.next = answer.nextCursor || null;
    }
  }

  async suspend(user) {
    const ok = await confirmDialog({ title: `Suspend ${user.name || user.id}?`, danger: true, confirmLabel: 'Suspend',
      message: 'Their sessions, tokens and live streams stop working at once and their running workspaces are stopped. '
        + 'You can activate them again later.' });
    if (!ok) return;
    await this.change(user, 'suspend', 'suspended');
  }

  async change(user, action, done) {
    const updated = await this.attempt(() => this.api.post(`${this.path}/${encodeURIComponent(user.id)}/${action}`),
      `${user.name || user.id} ${done}.`);
    if (updated) this.items = this.items.map((u) => (u.id === updated.id ? updated : u));
  }

  render() {
    const me = this.session.me.id;
    return html`<div class="page-head"><h1>Users</h1>
        <button type="button" class="secondary" @click=${() => this.load()}>Refresh</button></div>
      ${this.messages()}
      ${this.table(['User', 'Roles', 'Teams', 'Source', 'Status', 'Last sign-in', 'Actions'], this.items,
        (u) => html`<tr data-id=${u.id} data-state=${u.suspended ? 'suspended' : 'active'}>
          <td><strong>${u.name || u.id}</strong><div class="kv">${u.id}${u.email ? html` · ${u.email}` : nothing}</div></td>
          <td>${(u.roles || []).join(', ') || '—'}</td>
          <td>${(u.teams || []).join(', ') || '—'}</td>
          <td>${u.source === 'OIDC' ? 'identity provider' : 'owner'}</td>
          <td><span class="badge ${u.suspended ? 'status-failed' : 'status-running'}" data-status>${u.suspended
            ? 'suspended' : 'active'}</span></td>
          <td>${timeCell(u.lastLoginAt)}</td>
          <td><div class="row-actions">${u.id === me ? html`<small>you</small>` : u.suspended
            ? html`<button type="button" class="small" aria-label="Activate ${u.id}"
                @click=${() => this.change(u, 'activate', 'activated')}>Activate</button>`
            : html`<button type="button" class="small danger" aria-label="Suspend ${u.id}"
                @click=${() => this.suspend(u)}>Suspend</button>`}</div></td></tr>`)}
      ${this.next ? html`<div class="actions"><button type="button" class="secondary" @click=${() => this.load(true)}>Load more</button></div>`
        : nothing}`;
  }
}

class TokensPage extends ListPage {
  static properties = { issued: { state: true }, copied: { state: true } };

  path = '/api/v1/tokens';
  tableClass = 'tokens';
  emptyText = 'No active tokens.';

  async load() {
    const answer = await this.attempt(() => this.api.get(this.path));
    if (answer !== undefined) this.items = answer.tokens || [];
  }

  async issue(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const body = { name: data.get('name').trim(), roles: data.getAll('roles'), expiresIn: data.get('expiresIn') };
    if (data.get('subject').trim()) body.subject = data.get('subject').trim();
    const issued = await this.attempt(() => this.api.post(this.path, body));
    if (issued) {
      this.issued = issued;
      this.copied = null;
      form.reset();
      await this.load();
    }
  }

  async revoke(token) {
    const ok = await confirmDialog({ title: `Revoke token ${token.name}?`, danger: true, confirmLabel: 'Revoke',
      message: token.kind === 'bootstrap'
        ? 'This retires the bootstrap admin token for good; the engine allows it once somebody who signs in through '
          + 'single sign-on is an owner.'
        : `Whoever uses it (${token.subject}) is refused from now on and their live streams end. This cannot be undone.` });
    if (!ok) return;
    await this.attempt(() => this.api.delete(`${this.path}/${encodeURIComponent(token.id)}`), `${token.name} revoked.`);
    await this.load();
  }

  render() {
    return html`<div class="page-head"><h1>API tokens</h1>
        <button type="button" class="secondary" @click=${() => this.load()}>Refresh</button></div>
      ${this.messages()}
      ${this.issued ? html`<div class="card secret" role="alert" data-issued=${this.issued.id}>
        <p><strong>Token ${this.issued.name}</strong> for ${this.issued.subject}, until ${timeCell(this.issued.expiresAt)}:
          copy it now, it is not shown again.</p>
        <pre id="issued-token" tabindex="0">${this.issued.token}</pre>
        <button type="button" class="secondary small" @click=${async () => {
          this.copied = await copyText(this.issued.token, this.querySelector('#issued-token')) ? 'Copied.' : 'Selected: press Ctrl+C.';
        }}>Copy token</button> <span role="status">${this.copied || ''}</span>
        <button type="button" class="link" @click=${() => { this.issued = null; }}>Done</button></div>` : nothing}
      <form class="card" @submit=${this.issue} aria-labelledby="issue-title">
        <h2 id="issue-title">Issue a token</h2>
        <div class="grid">
          <div class="field"><label for="t-name">Name</label><input id="t-name" name="name" required maxlength="100"></div>
          <div class="field"><label for="t-subject">Subject <small>(optional: whose token; default you)</small></label>
            <input id="t-subject" name="subject" maxlength="100" pattern="[A-Za-z0-9][A-Za-z0-9._@|:+\\-]*"></div>
          <div class="field"><label for="t-expires">Expires in</label><select id="t-expires" name="expiresIn">
            <option value="P30D">30 days</option><option value="P7D">7 days</option><option value="P1D">1 day</option>
            <option value="P90D">90 days (the longest by default)</option></select></div>
        </div>
        <fieldset><legend>Roles</legend>${ROLES.map((r) => html`<label class="inline"><input type="checkbox" name="roles"
          value=${r} ?checked=${r === 'member'}> ${r}</label>`)}</fieldset>
        <div class="actions"><button type="submit" class="primary">Issue token</button></div>
      </form>
      <h2>Active tokens</h2>
      ${this.table(['Name', 'Subject', 'Roles', 'Created', 'Expires', 'Last used', 'Actions'], this.items,
        (t) => html`<tr data-id=${t.id} data-name=${t.name}>
          <td><strong>${t.name}</strong>${t.kind && t.kind !== 'api' ? html` <span class="tag">${t.kind}</span>` : nothing}
            ${t.scope ? html`<div class="kv">scoped</div>` : nothing}</td>
          <td>${t.subject}</td>
          <td>${(t.roles || []).join(', ') || '—'}</td>
          <td data-created>${timeCell(t.createdAt)}${t.createdBy ? html`<div class="kv">by ${t.createdBy}</div>` : nothing}</td>
          <td data-expires>${t.expiresAt ? timeCell(t.expiresAt) : 'never'}</td>
          <td data-last-used>${t.lastUsedAt ? timeCell(t.lastUsedAt) : 'never'}</td>
          <td><div class="row-actions"><button type="button" class="small danger" aria-label="Revoke ${t.name}"
            @click=${() => this.revoke(t)}>Revoke</button></div></td></tr>`)}`;
  }
}

customElements.define('dead-letters-page', DeadLettersPage);
customElements.define('users-page', UsersPage);
customElements.define('tokens-page', TokensPage);
