#include "results/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace hwnas {
namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// Tick step of 1, 2 or 5 x 10^k giving about `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string tick_text(double v, double step) {
  char buf[32];
  if (std::fabs(v) < 1e-9 * step) v = 0;  // no "-0" from accumulated rounding
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  // Large values (MACs, params) read better in engineering notation.
  if (std::fabs(v) >= 1e6 && step >= 1e5)
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  return buf;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_svg(const SvgChart& c) {
  // Data extent over series, labels and rules.
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  auto extend = [&](double x, double y) {
    if (std::isfinite(x)) x0 = std::min(x0, x), x1 = std::max(x1, x);
    if (std::isfinite(y)) y0 = std::min(y0, y), y1 = std::max(y1, y);
  };
  for (const auto& s : c.series)
    for (const auto& p : s.points) extend(p.x, p.y);
  for (const auto& l : c.labels) extend(l.at.x, l.at.y);
  for (const auto& b : c.error_bars)
    if (std::isfinite(b.x)) extend(b.x, b.lo), extend(b.x, b.hi);
  for (const auto& r : c.rules) r.vertical ? extend(r.value, NAN) : extend(NAN, r.value);
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  if (x1 - x0 <= 0) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 <= 0) y0 -= 0.5, y1 += 0.5;
  const double px = 0.05 * (x1 - x0), py = 0.05 * (y1 - y0);
  x0 = c.x_min.value_or(x0 - px), x1 = c.x_max.value_or(x1 + px);
  y0 = c.y_min.value_or(y0 - py), y1 = c.y_max.value_or(y1 + py);

  const double left = 80, right = 20, top = 40, bottom = 56;
  const double w = c.width_px - left - right, h = c.height_px - top - bottom;
  auto sx = [&](double x) { return left + (x - x0) / (x1 - x0) * w; };
  auto sy = [&](double y) { return top + h - (y - y0) / (y1 - y0) * h; };
  auto inside = [&](const ChartPoint& p) { return std::isfinite(p.x) && std::isfinite(p.y); };

  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << c.width_px
    << "\" height=\"" << c.height_px << "\" viewBox=\"0 0 " << c.width_px << ' ' << c.height_px
    << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << c.width_px << "\" height=\"" << c.height_px
    << "\" fill=\"white\"/>\n";
  o << "<text x=\"" << num(left + w / 2) << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">"
    << xml_escape(c.title) << "</text>\n";
  o << "<g class=\"axes\" stroke=\"#444\" fill=\"none\"><rect x=\"" << num(left) << "\" y=\""
    << num(top) << "\" width=\"" << num(w) << "\" height=\"" << num(h) << "\"/></g>\n";
  // Ticks and grid.
  const double xs = nice_step(x1 - x0, 6), ys = nice_step(y1 - y0, 6);
  o << "<g class=\"ticks\">\n";
  for (double t = std::ceil(x0 / xs) * xs; t <= x1 + 1e-9 * xs; t += xs)
    o << "<line x1=\"" << num(sx(t)) << "\" y1=\"" << num(top) << "\" x2=\"" << num(sx(t))
      << "\" y2=\"" << num(top + h) << "\" stroke=\"#eee\"/><text x=\"" << num(sx(t)) << "\" y=\""
      << num(top + h + 16) << "\" text-anchor=\"middle\">" << tick_text(t, xs) << "</text>\n";
  for (double t = std::ceil(y0 / ys) * ys; t <= y1 + 1e-9 * ys; t += ys)
    o << "<line x1=\"" << num(left) << "\" y1=\"" << num(sy(t)) << "\" x2=\"" << num(left + w)
      << "\" y2=\"" << num(sy(t)) << "\" stroke=\"#eee\"/><text x=\"" << num(left - 6) << "\" y=\""
      << num(sy(t) + 4) << "\" text-anchor=\"end\">" << tick_text(t, ys) << "</text>\n";
  o << "</g>\n";
  o << "<text x=\"" << num(left + w / 2) << "\" y=\"" << c.height_px - 12
    << "\" text-anchor=\"middle\">" << xml_escape(c.x_label) << "</text>\n";
  o << "<text transform=\"translate(16," << num(top + h / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(c.y_label) << "</text>\n";
  o << "<clipPath id=\"plot\"><rect x=\"" << num(left) << "\" y=\"" << num(top) << "\" width=\""
    << num(w) << "\" height=\"" << num(h) << "\"/></clipPath>\n";
  o << "<g clip-path=\"url(#plot)\">\n";
  for (const auto& r : c.rules) {
    const bool v = r.vertical;
    o << "<line class=\"rule\" x1=\"" << num(v ? sx(r.value) : left) << "\" y1=\""
      << num(v ? top : sy(r.value)) << "\" x2=\"" << num(v ? sx(r.value) : left + w) << "\" y2=\""
      << num(v ? top + h : sy(r.value)) << "\" stroke=\"#d62728\" stroke-dasharray=\"6 4\"/>\n";
  }
  for (const auto& b : c.error_bars) {
    if (!std::isfinite(b.x) || !std::isfinite(b.lo) || !std::isfinite(b.hi)) continue;
    const std::string x = num(sx(b.x)), lo = num(sy(b.lo)), hi = num(sy(b.hi));
    const std::string l = num(sx(b.x) - 3), r = num(sx(b.x) + 3);
    o << "<path class=\"error-bar\" d=\"M" << x << " " << lo << " V" << hi << " M" << l << " " << lo
      << " H" << r << " M" << l << " " << hi << " H" << r << "\" stroke=\"" << b.color
      << "\" stroke-width=\"1\" fill=\"none\"/>\n";
  }
  for (const auto& s : c.series) {
    std::vector<ChartPoint> pts;
    for (const auto& p : s.points)
      if (inside(p)) pts.push_back(p);
    if (s.kind == ChartSeries::Kind::scatter) {
      o << "<g class=\"series\" data-name=\"" << xml_escape(s.name) << "\" fill=\"" << s.color
        << "\" fill-opacity=\"" << s.opacity << "\">\n";
      for (const auto& p : pts)
        o << "<circle cx=\"" << num(sx(p.x)) << "\" cy=\"" << num(sy(p.y)) << "\" r=\"" << s.radius
          << "\"/>\n";
      o << "</g>\n";
      continue;
    }
    if (s.kind == ChartSeries::Kind::step_min_max)
      std::sort(pts.begin(), pts.end(), [](auto& a, auto& b) { return a.x < b.x; });
    std::string d;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (i == 0) {
        d += "M" + num(sx(pts[i].x)) + " " + num(sy(pts[i].y));
      } else if (s.kind == ChartSeries::Kind::step_min_max) {
        d += " H" + num(sx(pts[i].x)) + " V" + num(sy(pts[i].y));
      } else {
        d += " L" + num(sx(pts[i].x)) + " " + num(sy(pts[i].y));
      }
    }
    o << "<path class=\"series\" data-name=\"" << xml_escape(s.name) << "\" d=\"" << d
      << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"" << s.radius
      << "\" stroke-opacity=\"" << s.opacity << "\"/>\n";
    if (s.kind == ChartSeries::Kind::step_min_max) {
      o << "<g fill=\"" << s.color << "\">\n";
      for (const auto& p : pts)
        o << "<circle cx=\"" << num(sx(p.x)) << "\" cy=\"" << num(sy(p.y)) << "\" r=\""
          << s.radius + 1.5 << "\"/>\n";
      o << "</g>\n";
    }
  }
  for (const auto& l : c.labels) {
    if (!inside(l.at)) continue;
    o << "<g class=\"label\"><rect x=\"" << num(sx(l.at.x) - 4) << "\" y=\"" << num(sy(l.at.y) - 4)
      << "\" width=\"8\" height=\"8\" fill=\"#2ca02c\"/><text x=\"" << num(sx(l.at.x) + 7)
      << "\" y=\"" << num(sy(l.at.y) - 6) << "\">" << xml_escape(l.text) << "</text></g>\n";
  }
  o << "</g>\n";
  // Legend: one line per named series.
  double ly = top + 14;
  for (const auto& s : c.series) {
    if (s.name.empty()) continue;
    o << "<g class=\"legend\"><rect x=\"" << num(left + w - 150) << "\" y=\"" << num(ly - 9)
      << "\" width=\"10\" height=\"10\" fill=\"" << s.color << "\"/><text x=\""
      << num(left + w - 135) << "\" y=\"" << num(ly) << "\">" << xml_escape(s.name)
      << "</text></g>\n";
    ly += 16;
  }
  for (const auto& r : c.rules)
    if (!r.text.empty()) {
      o << "<text x=\"" << num(r.vertical ? sx(r.value) + 4 : left + 4) << "\" y=\""
        << num(r.vertical ? top + h - 6 : sy(r.value) - 4) << "\" fill=\"#d62728\">"
        << xml_escape(r.text) << "</text>\n";
    }
  o << "</svg>\n";
  return o.str();
}

}  // namespace hwnas
