"""Every component id of the page, in one place: grep a name to find both ends of a wire.

Layout modules build components with these ids; callback modules wire them. Section
containers (SEC_*) carry a `data-stamp` attribute that each section's callback sets to
the filter key it answered (see `callbacks.common.stamp`): a test or a curious person
can tell when every section shows the current filters.
"""

# Session: the URL the panel opened, and what the browser keeps in memory only.
URL = "url"
TOKEN = "session-token"  # dcc.Store(memory): the JWT from ?token=, never a cookie
TIMEZONE = "session-timezone"  # dcc.Store(memory): Intl...resolvedOptions().timeZone
THEME = "session-theme"  # dcc.Store(memory): 'light' | 'dark', from ?theme= (auto: the system's scheme)
LANG = "session-lang"  # dcc.Store(memory): the page's language, es | en (callbacks/language.py)

# Gate: the dashboard, or the access message when the token is missing or invalid.
DASHBOARD = "dashboard"
ACCESS = "access-denied"
ACCESS_DETAIL = "access-denied-detail"
ORG_LABEL = "org-label"

# Global filter bar.
PRESET = "filter-preset"
DATES = "filter-dates"
DATES_WRAP = "filter-dates-wrap"
SOURCE = "filter-source"
GRANULARITY = "filter-granularity"
TZ_LABEL = "tz-label"
# What the sections answer: the filter bar's period once validated (clientside applyFilters in
# assets/dashboard.js). A reversed or future-starting range, or Personalizado clicked without a
# date change, leaves these untouched: no section re-queries.
APPLIED_PRESET = "filter-applied-preset"
APPLIED_START = "filter-applied-start"
APPLIED_END = "filter-applied-end"
# The slice (contract §3.1, issue 9): dcc.Store(memory) holding the applied dimension filters as
# {"agentId": [...], "userId": [...], "provider": [...], "model": [...], "actionType": [...]}
# (API parameter names; absent or empty keys: no filter). Drill-down clicks, chips, the filter
# row and the anomaly list write it; every section reads it. It also carries the comparison
# (contract §3.2) as "compare": "previous" | "year" (callbacks/common.py, COMPARE), written by
# the «Comparar con» control (COMPARE) and the URL, so every section that reads the slice gets it.
FILTER_SLICE = "filter-slice"
COMPARE = "filter-compare"  # «Comparar con»: none | previous | year (callbacks/compare.py)
# «Mayores cambios» (layouts/changes.py, callbacks/changes.py): shown with a comparison only.
SEC_CHANGES = "section-changes"
CHANGES_BODY = "changes-body"
CHANGES_KEYS = "changes-keys"  # [[api, value], ...]: the filter each entry's click adds, by index
# The entries are not Dash components (layouts/changes.py, layouts/textdom.py): CHANGES_VIEW holds
# their tree, assets/textdom.js draws it into CHANGES_LIST and writes a click to CHANGES_CLICK
# ({"i": entry index, "n": clicks so far}).
CHANGES_VIEW = "changes-view"
CHANGES_LIST = "changes-entries"
CHANGES_CLICK = "changes-click"
# The filter row under the bar (layouts/slice.py, callbacks/slice.py): one searchable multi-select
# per dimension, the chips of what is applied (a chip's ✕: assets/view_url.js),
# «Quitar filtros» and «Copiar enlace». SLICE_NAMES: {agentId: {id: name}} for the chips' labels.
# SLICE_OPTIONS: {dropdown id: [options]} from the window's data; assets/view_url.js `show` puts them
# in the dropdowns together with the slice's values (no callback chain from it to the slice).
SLICE_ROW = "slice-row"
SLICE_AGENT = "slice-agent"
SLICE_USER = "slice-user"
SLICE_MODEL = "slice-model"  # provider and model options: values "provider:<p>" / "model:<m>"
SLICE_ACTION = "slice-action"
SLICE_CHIPS = "slice-chips"
SLICE_CLEAR = "slice-clear"
SLICE_NAMES = "slice-names"
SLICE_OPTIONS = "slice-options"
# The actions' colour legend: one button per action type, id ACTIONS_LEGEND_ITEM + "-" + the
# action type (layouts/actions.py legend_id; a click filters: callbacks/slice_clicks.py).
ACTIONS_LEGEND_ITEM = "actions-legend"
COPY_LINK = "copy-link"
COPY_LINK_STATUS = "copy-link-status"
DATES_LABEL = "filter-dates-label"
DATES_HINT = "filter-dates-hint"  # «hasta hoy» beside the inputs when the range ends after today
FILTER_NOTICE = "filter-notice"  # why a typed range was not applied, or why Hora fell back to Día
# A link's period, source or resolution the page does not offer: named, and what shows instead
# (set by the view's restore, assets/view_url.js; cleared by the next change of the view).
LINK_NOTICE = "link-notice"
# Radio groups: the visible label names the group (role=radiogroup, aria-labelledby).
PRESET_LABEL = "filter-preset-label"
SOURCE_LABEL = "filter-source-label"
GRANULARITY_LABEL = "filter-granularity-label"
COMPARE_LABEL = "filter-compare-label"
ACTIONS_METRIC_LABEL = "actions-metric-label"
MODELS_VIEW_LABEL = "models-view-label"
MODELS_SCALE_LABEL = "models-scale-label"
MODELS_LATENCY_LABEL = "models-latency-label"
WINDOW_LABEL = "window-label"
BANNER = "status-banner"

# Sections (containers with data-stamp).
SEC_KPIS = "section-kpis"
SEC_TREND = "section-trend"
SEC_ACTIONS = "section-actions"
SEC_MODELS = "section-models"
SEC_AGENTS = "section-agents"
SEC_USERS = "section-users"
SEC_ADVANCED = "section-advanced"
SECTIONS = (SEC_KPIS, SEC_TREND, SEC_ACTIONS, SEC_MODELS, SEC_AGENTS, SEC_USERS, SEC_ADVANCED)

# KPI cards.
KPI_COST = "kpi-cost"
KPI_TOKENS = "kpi-tokens"
KPI_CACHE = "kpi-cache"
KPI_PROJECTION = "kpi-projection"

# Tendencia.
TREND_GRAPH = "trend-graph"
TREND_NOTE = "trend-note"

# Anomalías (layouts/anomalies.py): the list of recent anomalous days and what a click on one
# applies (the day and its first contributor, read by assets/anomalies.js). Not in SECTIONS.
SEC_ANOMALIES = "section-anomalies"
ANOMALY_LIST = "anomaly-list"
ANOMALY_DATA = "anomaly-data"

# Desglose por acción.
ACTIONS_METRIC = "actions-metric"
ACTIONS_AREA = "actions-area"
ACTIONS_DONUT = "actions-donut"

# Modelos.
MODELS_BARS = "models-bars"
MODELS_BUBBLE = "models-bubble"
MODELS_NOTE = "models-note"

# Agentes.
AGENTS_GRID = "agents-grid"
AGENTS_EXPORT = "agents-export"
AGENTS_SEARCH = "agents-search"
AGENTS_COUNT = "agents-count"
AGENTS_MATCHES = "agents-matches"  # " · 4 de 26 coinciden con «ca»" while a search narrows the grid

# Usuarios (layouts/users.py, callbacks/users.py): the top users by cost, «otros» pinned under
# them, the limit (50 … 1000), search, CSV; a row click adds userId to the slice.
USERS_GRID = "users-grid"
USERS_SEARCH = "users-search"
USERS_EXPORT = "users-export"
USERS_LIMIT = "users-limit"
USERS_COUNT = "users-count"  # "50 de 1.234 usuarios"
USERS_MATCHES = "users-matches"  # " · 4 coinciden con «ana»" while a search narrows the grid
USERS_TOTAL = "users-total"  # the period's total, which the rows and «otros» add up to

# «CSV» of each chart's data (layouts/exports.py, callbacks/exports.py): per chart, the button,
# its dcc.Download and its status line.
CSV_TREND = "csv-trend"
CSV_ACTIONS = "csv-actions"
CSV_MODELS = "csv-models"
CSV_HEATMAP = "csv-heatmap"
CSV_TREND_DOWNLOAD = "csv-trend-download"  # dcc.Download id = button id + '-download'
CSV_ACTIONS_DOWNLOAD = "csv-actions-download"
CSV_MODELS_DOWNLOAD = "csv-models-download"
CSV_HEATMAP_DOWNLOAD = "csv-heatmap-download"
CSV_TREND_STATUS = "csv-trend-status"  # why no file came (button id + '-status')
CSV_ACTIONS_STATUS = "csv-actions-status"
CSV_MODELS_STATUS = "csv-models-status"
CSV_HEATMAP_STATUS = "csv-heatmap-status"

# Avanzado.
ADVANCED_TOGGLE = "advanced-toggle"
ADVANCED_COLLAPSE = "advanced-collapse"
ADVANCED_STALE = "advanced-stale"  # its inputs moved while the section is open
HEATMAP = "advanced-heatmap"
SOURCE_SPLIT = "advanced-source-split"
SOURCE_SPLIT_TABLE = "advanced-source-split-table"
CACHE_DETAIL = "advanced-cache-detail"
CACHE_TIMELINE = "advanced-cache-timeline"
CACHE_MODELS = "advanced-cache-models"

# Modelos toggles: bars of cost or of tokens; the bubbles' cost axis linear or logarithmic.
MODELS_VIEW = "models-view"
MODELS_SCALE = "models-scale"
MODELS_LATENCY = "models-latency"  # the bubbles' x: mean, p50 or p95 latency
MODELS_KEY = "models-key"  # the bubbles' numbered key: drawn by assets/textdom.js from MODELS_KEY_VIEW
MODELS_KEY_VIEW = "models-key-view"
MODELS_BARS_TITLE = "models-bars-title"  # names what the bars rank by

# «Ver datos»: per chart, the toggle button and the region its table fills while open
# (layouts/datatables.py: region id = 'data-<chart>', button id = region + '-button').
DATA_TREND = "data-trend"
DATA_TREND_BUTTON = "data-trend-button"
DATA_TREND_STALE = "data-trend-stale"  # the filters moved while open
DATA_ACTIONS_AREA = "data-actions-area"
DATA_ACTIONS_AREA_BUTTON = "data-actions-area-button"
DATA_ACTIONS_AREA_STALE = "data-actions-area-stale"  # the filters moved while open
DATA_ACTIONS_DONUT = "data-actions-donut"
DATA_ACTIONS_DONUT_BUTTON = "data-actions-donut-button"
DATA_ACTIONS_DONUT_STALE = "data-actions-donut-stale"  # the filters moved while open
DATA_MODELS_BARS = "data-models-bars"
DATA_MODELS_BARS_BUTTON = "data-models-bars-button"
DATA_MODELS_BARS_STALE = "data-models-bars-stale"  # the filters moved while open
DATA_MODELS_BUBBLE = "data-models-bubble"
DATA_MODELS_BUBBLE_BUTTON = "data-models-bubble-button"
DATA_MODELS_BUBBLE_STALE = "data-models-bubble-stale"  # the filters moved while open
DATA_HEATMAP = "data-heatmap"
DATA_HEATMAP_BUTTON = "data-heatmap-button"
DATA_HEATMAP_STALE = "data-heatmap-stale"  # the filters moved while open
DATA_SPLIT = "data-split"
DATA_SPLIT_BUTTON = "data-split-button"
DATA_SPLIT_STALE = "data-split-stale"  # the filters moved while open

# Display currency (?currency=EUR): the code from the URL, the note saying at what rate (or why
# the page stays in USD), and the footer's line naming the currency.
CURRENCY = "display-currency"
CURRENCY_NOTE = "currency-note"
FOOT_CURRENCY = "foot-currency"

# Presupuesto (issue 10): the section, the editor (rendered only for a token with ai.agent:write),
# the change log, the budget line of the projection card and the trend's «Acumulado» view.
SEC_BUDGET = "section-budget"
BUDGET_SUMMARY = "budget-summary"
BUDGET_EDITOR = "budget-editor"  # the form: hidden and empty unless the token may write (callbacks/budget.py)
BUDGET_AMOUNT = "budget-amount"
BUDGET_THRESHOLDS = "budget-thresholds"
BUDGET_WEBHOOK = "budget-webhook"
BUDGET_SAVE = "budget-save"
BUDGET_STATUS = "budget-status"  # the save's answer: saved, or the 400's message inline
BUDGET_VERSION = "budget-version"  # dcc.Store: bumped by every save, so the views re-read
BUDGET_HISTORY = "budget-history"
KPI_BUDGET = "kpi-budget"  # inside the projection card, under what the overview fills
TREND_VIEW = "trend-view"  # «Por periodo» | «Acumulado»
TREND_VIEW_LABEL = "trend-view-label"
TREND_PERIOD_WRAP = "trend-period-wrap"
TREND_CUMULATIVE_WRAP = "trend-cumulative-wrap"
TREND_CUMULATIVE = "trend-cumulative"
TREND_CUMULATIVE_STALE = "trend-cumulative-stale"  # its inputs moved while «Acumulado» is shown

# «Alertas»: the org's alert events and their webhook deliveries (layouts/alerts.py).
SEC_ALERTS = "sec-alerts"
ALERTS_LIST = "alerts-list"
