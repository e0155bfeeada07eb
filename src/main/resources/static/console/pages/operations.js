// Operators (role owner): dead letters, users and API tokens. These pages follow the contract of APIs that an engine
// may not have yet (docs/console.md); the console shows them only when the engine's OpenAPI document lists the path.
// Lists are rendered from whatever fields the items have, so that a field added to the API shows up by itself.
import { html, nothing } from 'lit';
import { Page, timeCell, confirmDialog, copyText, emptyRow } from '../ui.js';

const ROLES = ['owner', 'template-admin', 'member', 'auditor', 'finance'];
const TIME = /(At|Time|time|Since|Until)$/;

/** The list in an answer: the answer itself, or its first array-valued field ({tokens: [...]}, {deadLetters: [...]}). */
export function itemsOf(answer) {
  if (Array.isArray(answer)) return answer;
  const list = Object.values(answer || {}).find(Array.isArray);
  return list || [];
}

function columnsOf(items, preferred) {
  const keys = new Set();
  for (const item of items.slice(0, 20)) Object.keys(item).forEach((k) => keys.add(k));
  return [...preferred.filter((k) => keys.has(k)), ...[...keys].filter((k) => !preferred.includes(k)).slice(0, 6)];
}

function cell(key, value) {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'object') return html`<code>${JSON.stringify(value)}</code>`;
  if (TIME.test(key)) return timeCell(value);
  return String(value);
}

class ListPage extends Page {
  static properties = { items: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    const answer = await this.attempt(() => this.api.get(this.path));
    if (answer !== undefined) this.items = itemsOf(answer);
  }

  table(preferred, actions) {
    const items = this.items;
    const columns = items ? columnsOf(items, preferred) : preferred;
    return html`<div class="table-wrap"><table>
      <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}<th scope="col">Actions</th></tr></thead>
      <tbody>${!items ? emptyRow(columns.length + 1, 'Loading…') : items.length === 0 ? emptyRow(columns.length + 1, 'None.') : nothing}
        ${(items || []).map((item) => html`<tr data-id=${item.id}>${columns.map((c) => html`<td>${cell(c, item[c])}</td>`)}
          <td class="row-actions">${actions(item)}</td></tr>`)}</tbody></table></div>`;
  }
}

class DeadLettersPage extends ListPage {
  path = '/api/v1/dead-letters';

  async retry(item) {
    const answer = await this.attempt(() => this.api.post(`${this.path}/${encodeURIComponent(item.id)}/retry`));
    if (answer !== undefined) {
      this.notice = (answer.handled ? 'Handled: the event and the rest of its sequence went through.'
        : `Still failing: ${answer.stillParked?.causeMessage || 'see the cause'}.`);
    }
    this.load();
  }

  async drop(item) {
    const ok = await confirmDialog({ title: 'Drop this dead letter?', danger: true, confirmLabel: 'Drop',
      message: 'The event is not handled again by this processor. The event itself stays in the event store.' });
    if (!ok) return;
    await this.attempt(() => this.api.delete(`${this.path}/${encodeURIComponent(item.id)}`), 'Dropped.');
    this.load();
  }

  render() {
    return html`<div class="page-head"><h1>Dead letters</h1>
        <button type="button" class="secondary" @click=${() => this.load()}>Refresh</button></div>
      ${this.messages()}
      <p class="hint">Events that a processor failed to handle and set aside; retry after fixing the cause.</p>
      ${this.table(['id', 'group', 'eventType', 'eventIndex', 'causeType', 'causeMessage', 'enqueuedAt', 'lastTouched'],
        (item) => html`<button type="button" class="small" @click=${() => this.retry(item)}>Retry</button>
          <button type="button" class="small danger" @click=${() => this.drop(item)}>Drop</button>`)}`;
  }
}

class UsersPage extends ListPage {
  path = '/api/v1/users';

  async setActive(user, active) {
    await this.attempt(() => this.api.post(`${this.path}/${encodeURIComponent(user.id)}/${active ? 'activate' : 'suspend'}`),
      `${user.name || user.id} ${active ? 'activated' : 'suspended'}.`);
    this.load();
  }

  render() {
    return html`<h1>Users</h1>${this.messages()}
      ${this.table(['id', 'name', 'email', 'roles', 'teams', 'status', 'suspended', 'lastSeenAt'], (user) => {
        const suspended = user.suspended === true || user.status === 'SUSPENDED' || user.status === 'suspended';
        return suspended ? html`<button type="button" class="small" @click=${() => this.setActive(user, true)}>Activate</button>`
          : html`<button type="button" class="small danger" @click=${() => this.setActive(user, false)}>Suspend</button>`;
      })}`;
  }
}

class TokensPage extends ListPage {
  static properties = { issued: { state: true }, copied: { state: true } };

  path = '/api/v1/tokens';

  async issue(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const body = { name: data.get('name'), roles: data.getAll('roles'), expiresIn: data.get('expiresIn') || undefined };
    if (data.get('subject')) body.subject = data.get('subject');
    const issued = await this.attempt(() => this.api.post(this.path, body));
    if (issued) {
      this.issued = issued;
      this.copied = null;
      form.reset();
      this.load();
    }
  }

  async revoke(token) {
    const ok = await confirmDialog({ title: `Revoke token ${token.name}?`, danger: true, confirmLabel: 'Revoke',
      message: 'Whoever uses it is refused from now on. This cannot be undone.' });
    if (!ok) return;
    await this.attempt(() => this.api.delete(`${this.path}/${encodeURIComponent(token.id)}`), `${token.name} revoked.`);
    this.load();
  }

  render() {
    return html`<h1>API tokens</h1>${this.messages()}
      ${this.issued ? html`<div class="card secret" role="alert">
        <p><strong>Token ${this.issued.name}</strong>: copy it now, it is not shown again.</p>
        <pre id="issued-token" tabindex="0">${this.issued.token}</pre>
        <button type="button" class="secondary small" @click=${async () => {
          this.copied = await copyText(this.issued.token, this.querySelector('#issued-token')) ? 'Copied.' : 'Selected: press Ctrl+C.';
        }}>Copy token</button> <span role="status">${this.copied || ''}</span>
        <button type="button" class="link" @click=${() => { this.issued = null; }}>Done</button></div>` : nothing}
      <form class="card" @submit=${this.issue} aria-labelledby="issue-title">
        <h2 id="issue-title">Issue a token</h2>
        <div class="grid">
          <div class="field"><label for="t-name">Name</label><input id="t-name" name="name" required maxlength="100"></div>
          <div class="field"><label for="t-subject">Subject <small>(optional: whose token)</small></label>
            <input id="t-subject" name="subject" maxlength="100" pattern="[A-Za-z0-9._@\\-]+"></div>
          <div class="field"><label for="t-expires">Expires in</label><select id="t-expires" name="expiresIn">
            <option value="P30D">30 days</option><option value="P7D">7 days</option>
            <option value="P90D">90 days (the longest by default)</option></select></div>
        </div>
        <fieldset><legend>Roles</legend>${ROLES.map((r) => html`<label class="inline"><input type="checkbox" name="roles" value=${r}
          ?checked=${r === 'member'}> ${r}</label>`)}</fieldset>
        <div class="actions"><button type="submit" class="primary">Issue token</button></div>
      </form>
      ${this.table(['id', 'name', 'subject', 'roles', 'createdAt', 'expiresAt', 'lastUsedAt'],
        (token) => html`<button type="button" class="small danger" @click=${() => this.revoke(token)}>Revoke</button>`)}`;
  }
}

customElements.define('dead-letters-page', DeadLettersPage);
customElements.define('users-page', UsersPage);
customElements.define('tokens-page', TokensPage);
