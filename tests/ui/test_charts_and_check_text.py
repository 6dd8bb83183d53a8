"""The SVG charts and the check text filter: no database needed."""

from datetime import date, timedelta

from posture import charts
from posture.templatetags.rampart import check_text, seconds, total_objects


def test_a_sparkline_is_an_svg_image_with_a_title_for_screen_readers():
    svg = charts.sparkline([70, 75, None, 90], title="prod score")
    assert svg.startswith('<svg class="chart spark"')
    assert 'role="img"' in svg
    assert 'aria-label="prod score"' in svg
    assert "<title>prod score</title>" in svg
    assert svg.count("<polyline") == 1


def test_an_empty_sparkline_draws_a_dashed_baseline():
    assert 'class="chart-empty"' in charts.sparkline([None, None], title="nothing yet")


def test_chart_titles_and_labels_are_escaped():
    svg = charts.bar_chart([("<b>x</b>", 3, "sev-high")], title='a "quoted" <title>')
    assert "<b>" not in svg
    assert "&lt;b&gt;x&lt;/b&gt;" in svg
    assert 'aria-label="a &quot;quoted&quot; &lt;title&gt;"' in svg


def test_a_line_chart_has_a_hover_title_per_point_and_dated_ends():
    start = date(2026, 11, 1)
    points = [(start + timedelta(days=n), 50 + n) for n in range(3)]
    svg = charts.line_chart(points, title="trend")
    assert svg.count('<circle class="chart-dot"') == 3
    assert "<title>2026-11-02: 51</title>" in svg
    assert ">2026-11-01</text>" in svg
    assert ">2026-11-03</text>" in svg


def test_a_line_chart_without_values_says_so():
    assert "No finished scans in this period" in charts.line_chart([(date(2026, 1, 1), None)], title="t")


def test_bars_scale_to_the_largest_value():
    svg = charts.bar_chart([("A", 10, "x"), ("B", 5, "y")], title="t", width=360)
    assert 'width="194"' in svg
    assert 'width="97"' in svg


def test_check_text_escapes_everything_then_renders_yaml_fences_and_code():
    html = check_text(
        "Remove `privileged: true` <script>x</script>.\n\n```yaml\nsecurityContext:\n  a: <b>\n```\n"
    )
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<code>privileged: true</code>" in html
    assert (
        '<pre class="snippet"><code class="language-yaml">securityContext:\n  a: &lt;b&gt;</code></pre>'
        in html
    )


def test_check_text_keeps_paragraphs_and_lists():
    html = check_text("First line\nsame paragraph.\n\n- one\n- two")
    assert html == "<p>First line same paragraph.</p><ul><li>one</li><li>two</li></ul>"


def test_small_formatters():
    assert total_objects({"Pod": 3, "Service": 2}) == 5
    assert seconds(1.234) == "1.23 s"
    assert seconds(12.34) == "12.3 s"
    assert seconds(125) == "2 min 5 s"
    assert seconds(None) == "—"


def test_a_single_scan_is_a_point_in_time_not_a_line_across_the_period():
    svg = charts.sparkline([None] * 29 + [80], title="one scan")
    assert "<polyline" not in svg
    assert 'class="chart-dot" cx="117.0"' in svg  # at the right end: the last day
