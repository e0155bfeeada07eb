// Finance: a month's cost by team, owner, template or provider as a stacked chart per day and a table, the month-end
// forecast next to the budgets, savings from automatic stops, budgets with their state, live from
// GET /api/v1/budgets/watch, and CSV exports of each report.
import { html, nothing } from 'lit';
import {
  Chart, BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Legend,
  Tooltip,
} from 'chart.js';
import { Page, money, liveIndicator, emptyRow, timeCell, humanDuration } from '../ui.js';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale,
  Legend, Tooltip);

// Okabe-Ito: told apart also with the common colour vision deficiencies.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const GROUPS = ['team', 'owner', 'template', 'provider'];
const BUDGET_STATE = { OK: 'ok', WARNING: '80 %', EXHAUSTED: 'used up' };

function currentMonth() {
  return new Date().toISOString().slice(0, 7);
}

function daysOf(month) {
  const [year, m] = month.split('-').map(Number);
  const count = new Date(Date.UTC(year, m, 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

function groupName(row) {
  return row.label || row.group || '(none)';
}

class CostsPage extends Page {
  static properties = {
    month: { state: true },
    groupBy: { state: true },
    currency: { state: true },
    daily: { state: true },
    monthly: { state: true },
    forecast: { state: true },
    savings: { state: true },
    budgets: { state: true },
    live: { state: true },
    liveDetail: { state: true },
    budgetNotices: { state: true },
  };

  constructor() {
    super();
    this.month = currentMonth();
    this.groupBy = 'team';
    this.live = 'connecting';
    this.budgetNotices = [];
    this.charts = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this.month = this.params.month || currentMonth();
    this.groupBy = GROUPS.includes(this.params.groupBy) ? this.params.groupBy : 'team';
    this.load();
    this.closeWatch = this.api.watch('/api/v1/budgets/watch', {
      onOpen: () => this.loadBudgets(),
      onEvent: (notice) => this.budgetNotice(notice),
      onState: (state, detail) => { this.live = state; this.liveDetail = detail; },
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.closeWatch) this.closeWatch();
    Object.values(this.charts).forEach((chart) => chart.destroy());
    this.charts = {};
  }

  async load() {
    const { month, groupBy } = this;
    const [daily, monthly, forecast, savings] = await Promise.all([
      this.attempt(() => this.api.get('/api/v1/costs', { month, groupBy, granularity: 'day' })),
      this.attempt(() => this.api.get('/api/v1/costs', { month, groupBy, granularity: 'month' })),
      this.attempt(() => this.api.get('/api/v1/costs/forecast', { month, groupBy })),
      this.attempt(() => this.api.get('/api/v1/costs/savings', { month })),
      this.loadBudgets(), // what the budgets spent, as of the same moment as the costs shown next to them
    ]);
    Object.assign(this, { daily, monthly, forecast, savings });
    const currencies = this.currencies();
    if (!currencies.includes(this.currency)) this.currency = currencies[0];
  }

  async loadBudgets() {
    const answer = await this.attempt(() => this.api.get('/api/v1/budgets'));
    if (answer) this.budgets = answer.budgets;
  }

  budgetNotice(notice) {
    this.budgetNotices = [notice, ...this.budgetNotices].slice(0, 5);
    this.loadBudgets();
    if (notice.type === 'BudgetThresholdCrossed') this.load();
  }

  currencies() {
    const all = new Set();
    for (const report of [this.daily, this.forecast]) {
      for (const row of (report && report.rows) || []) if (row.currency) all.add(row.currency);
    }
    for (const b of this.budgets || []) all.add(b.currency);
    return [...all].sort();
  }

  choose(event) {
    event.preventDefault();
    const data = new FormData(event.target);
    this.month = data.get('month') || currentMonth();
    this.groupBy = data.get('groupBy');
    this.load();
  }

  async exportCsv(report) {
    const params = { format: 'csv', report, groupBy: this.groupBy, month: report === 'prices' ? '' : this.month,
      granularity: report === 'costs' ? 'day' : '' };
    if (report === 'forecast') delete params.granularity;
    const name = await this.attempt(() => this.api.download('/api/v1/costs/export', params, `atelier-${report}.csv`));
    if (name) this.notice = `Downloaded ${name}.`;
  }

  async setBudget(event) {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target).entries());
    const saved = await this.attempt(() => this.api.post('/api/v1/budgets', { ...data, amount: Number(data.amount),
      period: 'month' }), `Budget for ${data.scope} '${data.name}' saved.`);
    if (saved) {
      event.target.reset();
      this.loadBudgets();
    }
  }

  updated() {
    this.drawDaily();
    this.drawForecast();
  }

  /** Replaces a chart's data in place (no animation: a live update should not dance). */
  chart(id, config) {
    const canvas = this.querySelector(`#${id}`);
    if (!canvas) return;
    const existing = this.charts[id];
    if (existing && existing.canvas === canvas) {
      existing.data = config.data;
      existing.update('none');
      return;
    }
    if (existing) existing.destroy();
    this.charts[id] = new Chart(canvas, { ...config, options: { animation: false, maintainAspectRatio: false,
      responsive: true, ...config.options } });
  }

  drawDaily() {
    if (!this.daily || !this.currency) return;
    const days = daysOf(this.month);
    const rows = this.daily.rows.filter((r) => r.currency === this.currency);
    const groups = [...new Set(rows.map(groupName))].sort();
    const datasets = groups.map((g, i) => {
      const values = Object.fromEntries(days.map((d) => [d, 0]));
      rows.filter((r) => groupName(r) === g).forEach((r) => { values[r.period] = (values[r.period] || 0) + Number(r.amount); });
      return { label: g, data: days.map((d) => values[d]), backgroundColor: PALETTE[i % PALETTE.length], stack: 'cost' };
    });
    this.chart('daily-chart', {
      type: 'bar',
      data: { labels: days.map((d) => d.slice(8)), datasets },
      options: { scales: { x: { stacked: true, title: { display: true, text: `Day of ${this.month} (UTC)` } },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: this.currency } } },
      plugins: { legend: { position: 'bottom' } } },
    });
  }

  /** Per group: spent so far and projected month end as bars, the group's budget as a line across its bars. */
  drawForecast() {
    if (!this.forecast || !this.currency) return;
    const rows = this.forecast.rows.filter((r) => r.currency === this.currency && !r.unknown);
    const labels = rows.map(groupName);
    const budgetOf = (row) => {
      const b = (this.budgets || []).find((x) => x.scope === this.groupBy && x.name === row.group && x.currency === this.currency);
      return b ? Number(b.amount) : null;
    };
    this.chart('forecast-chart', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Spent so far', data: rows.map((r) => Number(r.spentSoFar)), backgroundColor: PALETTE[0] },
          { label: 'Projected month end', data: rows.map((r) => Number(r.projected)), backgroundColor: PALETTE[1] },
          { type: 'line', label: 'Budget', data: rows.map(budgetOf), showLine: false, pointStyle: 'line',
            pointRadius: 28, pointBorderWidth: 3, borderColor: PALETTE[5], backgroundColor: PALETTE[5] },
        ],
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: this.currency } } },
        plugins: { legend: { position: 'bottom' } } },
    });
  }

  renderTable() {
    const rows = (this.monthly && this.monthly.rows) || [];
    return html`<div class="table-wrap"><table class="costs">
      <caption>Cost by ${this.groupBy}, ${this.month}</caption>
      <thead><tr><th scope="col">${this.groupBy}</th><th scope="col">Currency</th><th scope="col" class="num">Amount</th>
        <th scope="col" class="num">Running hours</th><th scope="col" class="num">Stopped hours</th><th scope="col">Note</th></tr></thead>
      <tbody>${rows.length === 0 ? emptyRow(6, this.monthly ? 'No costs in this month.' : 'Loading…') : nothing}
        ${rows.map((r) => html`<tr data-group=${groupName(r)}><td>${groupName(r)}</td><td>${r.currency || '—'}</td>
          <td class="num">${r.unknown ? 'unknown' : money(r.amount, r.currency)}</td>
          <td class="num">${(r.runningSeconds / 3600).toFixed(2)}</td><td class="num">${(r.stoppedSeconds / 3600).toFixed(2)}</td>
          <td>${r.note || ''}</td></tr>`)}</tbody>
      <tfoot>${((this.monthly && this.monthly.totals) || []).map((t) => html`<tr><th scope="row">Total</th><td>${t.currency}</td>
        <td class="num"><strong>${money(t.amount, t.currency)}</strong></td><td colspan="3"></td></tr>`)}</tfoot>
    </table></div>`;
  }

  renderForecast() {
    const f = this.forecast;
    if (!f) return nothing;
    return html`
      <section class="card" aria-labelledby="forecast-title">
        <h2 id="forecast-title">Month-end forecast</h2>
        <p class="hint">${f.methodDescription || f.method}${f.incomplete ? ' Some prices are unknown: the forecast is incomplete.' : ''}</p>
        <div class="chart small-chart"><canvas id="forecast-chart" role="img"
          aria-label="Spent so far and projected month end per ${this.groupBy}, with budgets, in ${this.currency || ''}"></canvas></div>
        <div class="table-wrap"><table class="forecast">
          <thead><tr><th scope="col">${this.groupBy}</th><th scope="col" class="num">Spent so far</th>
            <th scope="col" class="num">Projected</th><th scope="col" class="num">Budget</th></tr></thead>
          <tbody>${f.rows.length === 0 ? emptyRow(4, 'Nothing to forecast.') : nothing}
            ${f.rows.map((r) => {
              const b = (this.budgets || []).find((x) => x.scope === this.groupBy && x.name === r.group && x.currency === r.currency);
              return html`<tr data-group=${groupName(r)} data-projected=${r.unknown ? '' : r.projected}><td>${groupName(r)}</td>
                <td class="num">${r.unknown ? 'unknown' : money(r.spentSoFar, r.currency)}</td>
                <td class="num">${r.unknown ? 'unknown' : money(r.projected, r.currency)}</td>
                <td class="num">${b ? money(b.amount, b.currency) : '—'}</td></tr>`;
            })}</tbody></table></div>
      </section>`;
  }

  renderSavings() {
    const s = this.savings;
    if (!s) return nothing;
    return html`
      <section class="card" aria-labelledby="savings-title">
        <h2 id="savings-title">Saved by automatic stops</h2>
        <p class="big">${s.totals.length ? s.totals.map((t) => money(t.amount, t.currency)).join(' + ') : money(0, this.currency)}</p>
        <p class="hint">Each stop counts for at most ${humanDuration(s.horizon)} (docs/costs.md).</p>
        ${s.byReason.length ? html`<ul>${s.byReason.map((r) => html`<li>${r.reason}: ${money(r.amount, r.currency)} (${r.stops} stops)</li>`)}</ul>` : nothing}
      </section>`;
  }

  renderBudgets() {
    const budgets = this.budgets;
    return html`
      <section aria-labelledby="budgets-title">
        <div class="page-head"><h2 id="budgets-title">Budgets</h2>${liveIndicator(this.live, this.liveDetail)}</div>
        <ul class="live-notices" aria-live="polite" aria-label="Budget notices">
          ${this.budgetNotices.map((n) => html`<li class=${`notice-${n.type}`}>${timeCell(n.at)} ${n.message || `${n.type} ${n.scope} ${n.name}`}</li>`)}
        </ul>
        <div class="table-wrap"><table class="budgets">
          <thead><tr><th scope="col">Scope</th><th scope="col">Name</th><th scope="col" class="num">Budget</th>
            <th scope="col" class="num">Spent</th><th scope="col">Used</th><th scope="col">State</th><th scope="col">Action</th></tr></thead>
          <tbody>${!budgets ? emptyRow(7, 'Loading…') : budgets.length === 0 ? emptyRow(7, 'No budgets yet.') : nothing}
            ${(budgets || []).map((b) => html`<tr data-budget=${b.name} data-state=${b.status}>
              <td>${b.scope}</td><td>${b.name}</td><td class="num">${money(b.amount, b.currency)}</td>
              <td class="num">${money(b.spent, b.currency)}</td>
              <td><meter min="0" max="100" low="80" high="99.99" optimum="0" value=${Math.min(100, Number(b.percent))}
                aria-label="${b.percent} % of the budget used"></meter> ${Number(b.percent).toFixed(1)} %</td>
              <td><span class=${`badge budget-${(b.status || '').toLowerCase()}`}>${BUDGET_STATE[b.status] || b.status}</span>
                ${b.blocking ? html`<small>starts refused until ${timeCell(b.blockedUntil)}</small>` : nothing}</td>
              <td>${(b.action || '').toLowerCase()}</td></tr>`)}</tbody></table></div>
        <form class="filters" @submit=${this.setBudget} aria-label="Set a budget">
          <div class="field"><label for="b-scope">Scope</label><select id="b-scope" name="scope"><option>team</option><option>owner</option></select></div>
          <div class="field"><label for="b-name">Team or owner</label><input id="b-name" name="name" required maxlength="100"></div>
          <div class="field"><label for="b-amount">Amount per month</label><input id="b-amount" name="amount" type="number" min="0" step="0.01" required></div>
          <div class="field"><label for="b-currency">Currency</label><input id="b-currency" name="currency" required maxlength="3" value=${this.currency || 'EUR'}></div>
          <div class="field"><label for="b-action">At 100 %</label><select id="b-action" name="action">
            <option value="notify">notify</option><option value="stop">stop the scope's workspaces</option></select></div>
          <button type="submit" class="secondary">Set budget</button>
        </form>
      </section>`;
  }

  render() {
    const currencies = this.currencies();
    return html`
      <div class="page-head"><h1>Costs</h1>
        <div class="row-actions">
          <button type="button" class="secondary" @click=${() => this.exportCsv('costs')}>Export costs CSV</button>
          <button type="button" class="secondary" @click=${() => this.exportCsv('forecast')}>Export forecast CSV</button>
          <button type="button" class="secondary" @click=${() => this.exportCsv('savings')}>Export savings CSV</button>
        </div></div>
      ${this.messages()}
      <form class="filters" @submit=${this.choose} aria-label="Choose the report">
        <div class="field"><label for="c-month">Month</label><input id="c-month" name="month" type="month" .value=${this.month}></div>
        <div class="field"><label for="c-group">Group by</label><select id="c-group" name="groupBy">
          ${GROUPS.map((g) => html`<option ?selected=${g === this.groupBy}>${g}</option>`)}</select></div>
        <button type="submit" class="primary">Show</button>
        ${currencies.length > 1 ? html`<div class="field"><label for="c-currency">Currency</label>
          <select id="c-currency" @change=${(e) => { this.currency = e.target.value; }}>
            ${currencies.map((c) => html`<option ?selected=${c === this.currency}>${c}</option>`)}</select></div>` : nothing}
      </form>
      <section class="card" aria-labelledby="daily-title">
        <h2 id="daily-title">Cost per day by ${this.groupBy}${this.currency ? ` (${this.currency})` : ''}</h2>
        ${this.daily && this.daily.incomplete ? html`<p class="hint">Some prices are unknown: those costs are not in the chart (see the table).</p>` : nothing}
        <div class="chart"><canvas id="daily-chart" role="img"
          aria-label="Stacked cost per day of ${this.month} by ${this.groupBy}; the table below has the numbers"></canvas></div>
        ${this.daily && !this.currency ? html`<p class="hint">No costs with a known price in this month.</p>` : nothing}
      </section>
      ${this.renderTable()}
      <div class="cards">${this.renderForecast()}${this.renderSavings()}</div>
      ${this.renderBudgets()}
      ${this.daily ? html`<p class="hint">As of ${timeCell(this.daily.asOf)}.</p>` : nothing}`;
  }
}

customElements.define('costs-page', CostsPage);
