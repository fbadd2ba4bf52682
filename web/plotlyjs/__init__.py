"""plotly.js's official partial bundle `plotly.js-cartesian-dist-min` (npm, MIT, LICENSE here),
served by app.Dash as a component suite instead of plotly.py's full plotly.min.js: the page
draws only scatter, bar, pie and heatmap traces, all in this bundle (1.5 MB unpacked against
4.8 MB). Its version follows plotly.py's `get_plotlyjs_version()` (tests/test_page_bundles.py
checks it); to update: `npm pack plotly.js-cartesian-dist-min@<that version>` and copy
plotly-cartesian.min.js and LICENSE here, then set __version__."""

__version__ = "4.1.1"
BUNDLE = "plotly-cartesian.min.js"
