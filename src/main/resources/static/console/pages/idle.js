// Operators and finance: running workspaces nobody uses, how long, under which policy, and what they cost meanwhile
// (GET /api/v1/idle).
import { html, nothing } from 'lit';
import { Page, humanDuration, timeCell, money, emptyRow } from '../ui.js';

const THRESHOLDS = [['PT0S', 'any idle time'], ['PT5M', '5 minutes'], ['PT30M', '30 minutes'], ['PT1H', '1 hour'],
  ['PT4H', '4 hours'], ['P1D', '1 day']];

class IdlePage extends Page {
  static properties = { workspaces: { state: true }, minIdle: { state: true } };

  constructor() {
    super();
    this.minIdle = 'PT30M';
  }

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    const answer = await this.attempt(() => this.api.get('/api/v1/idle', { minIdle: this.minIdle }));
    if (answer) this.workspaces = answer.workspaces;
  }

  render() {
    const list = this.workspaces;
    return html`
      <div class="page-head"><h1>Idle workspaces</h1>
        <button type="button" class="secondary" @click=${() => this.load()}>Refresh</button></div>
      ${this.messages()}
      <form class="filters" @submit=${(e) => { e.preventDefault(); this.minIdle = new FormData(e.target).get('minIdle'); this.load(); }}>
        <div class="field"><label for="i-min">Idle for at least</label>
          <select id="i-min" name="minIdle">${THRESHOLDS.map(([v, l]) => html`<option value=${v} ?selected=${v === this.minIdle}>${l}</option>`)}</select></div>
        <button type="submit" class="primary">Show</button>
      </form>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Workspace</th><th scope="col">Owner</th><th scope="col">Team</th><th scope="col">Idle for</th>
          <th scope="col">Idle timeout</th><th scope="col">Next automatic stop</th><th scope="col" class="num">Accruing per hour</th>
          <th scope="col" class="num">Spent while idle</th></tr></thead>
        <tbody>${!list ? emptyRow(8, 'Loading…') : list.length === 0 ? emptyRow(8, 'No running workspace is idle that long.') : nothing}
          ${(list || []).map((w) => html`<tr data-workspace=${w.name}>
            <td><a href="#/workspaces/${w.workspaceId}">${w.name}</a>${w.kind === 'AGENT' ? html` <span class="tag">agent</span>` : nothing}</td>
            <td>${w.owner}</td><td>${w.team || '—'}</td><td>${humanDuration(w.idleFor)}</td>
            <td>${w.policy && w.policy.idleTimeout ? humanDuration(w.policy.idleTimeout) : 'never'}</td>
            <td>${w.nextAutoStop ? html`${w.nextAutoStop.reason} at ${timeCell(w.nextAutoStop.at)}` : 'none'}</td>
            <td class="num">${w.accruingPerHour ? money(w.accruingPerHour.amount, w.accruingPerHour.currency) : 'unknown'}</td>
            <td class="num">${w.spentWhileIdle ? money(w.spentWhileIdle.amount, w.spentWhileIdle.currency) : 'unknown'}</td></tr>`)}
        </tbody></table></div>`;
  }
}

customElements.define('idle-page', IdlePage);
