"""The dashboard's charts (QtCharts): speed and accuracy per hour, errors by field, errors by class.

Each chart only draws what the core computed (`metrics.Dashboard`); none of them counts. The
figures are kept per UTC hour; the axes name days and hours in the station's local time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QPieSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QWidget

from workstation.metrics import FieldErrors, HourFigures

KPH_COLOUR = QColor("#2563eb")
ACCURACY_COLOUR = QColor("#059669")
BAR_COLOUR = QColor("#d97706")
CLASS_COLOURS = {
    "substitution": QColor("#2563eb"),
    "transposition": QColor("#7c3aed"),
    "omission": QColor("#d97706"),
    "insertion": QColor("#059669"),
    "other": QColor("#6b7280"),
}
TOP_FIELDS = 8


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    title_font = QFont(chart.titleFont())
    title_font.setPointSizeF(10.5)
    title_font.setBold(True)
    chart.setTitleFont(title_font)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setBackgroundRoundness(6)
    chart.setMargins(QMargins(6, 4, 6, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    return chart


class _ChartView(QChartView):
    def __init__(self, name: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(260, 200)
        self.setChart(_chart(title))

    def _clear(self) -> QChart:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        return chart


def _days(hours: Sequence[HourFigures]) -> list[list[tuple[int, HourFigures]]]:
    """The worked hours numbered 0.. in order, grouped by (local) day."""
    days: list[list[tuple[int, HourFigures]]] = []
    for n, hour in enumerate(hours):
        if days and days[-1][-1][1].hour.astimezone().date() == hour.hour.astimezone().date():
            days[-1].append((n, hour))
        else:
            days.append([(n, hour)])
    return days


def _day_label(day: dt.date, many: bool) -> str:
    return f"{day.day}/{day.month}" if many else f"{day:%a} {day.day} {day:%b}"


class HourlyChartWidget(_ChartView):
    """Keystrokes per active hour (left axis) and accuracy in percent (right axis), hour by hour.

    Only hours somebody worked are on the axis, in order, labelled by day (by hour when the
    period is one day): nights and weekends take no room; grid lines mark where a day ends.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("hourlyChart", "Speed and accuracy per hour", parent)
        self.points = 0
        self.labels: list[str] = []

    def set_hours(self, hours: Sequence[HourFigures], subject: str) -> None:
        chart = self._clear()
        chart.setTitle(f"Speed and accuracy per hour: {subject}")
        days = _days(hours)
        x_axis = QCategoryAxis()
        x_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue
                                 if len(days) == 1 else QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionCenter)
        x_axis.setStartValue(-0.5)
        self.labels = []
        if len(days) == 1:
            for n, hour in days[0]:
                self.labels.append(hour.hour.astimezone().strftime("%H:00"))
                x_axis.append(self.labels[-1], n)
        else:
            for day in days:
                self.labels.append(_day_label(day[0][1].hour.astimezone().date(), len(days) > 8))
                x_axis.append(self.labels[-1], day[-1][0] + 0.5)
        x_axis.setGridLineVisible(len(days) > 1)
        small = QFont(x_axis.labelsFont())
        small.setPointSizeF(8.0)
        x_axis.setLabelsFont(small)
        kph_axis = QValueAxis()
        kph_axis.setTitleText("KPH")
        kph_axis.setLabelFormat("%d")
        accuracy_axis = QValueAxis()
        accuracy_axis.setTitleText("Accuracy %")
        accuracy_axis.setLabelFormat("%.1f")
        chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(kph_axis, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(accuracy_axis, Qt.AlignmentFlag.AlignRight)
        self.points = 0
        top_kph, low_accuracy = 0.0, 100.0
        kph = self._series("KPH", KPH_COLOUR)
        accuracy = self._series("Accuracy %", ACCURACY_COLOUR)
        for n, hour in enumerate(hours):
            f = hour.figures
            if f.kph is not None:
                kph.append(n, f.kph)
                top_kph = max(top_kph, f.kph)
                self.points += 1
            if f.accuracy is not None:
                accuracy.append(n, 100 * f.accuracy)
                low_accuracy = min(low_accuracy, 100 * f.accuracy)
        for series, axis in ((kph, kph_axis), (accuracy, accuracy_axis)):
            chart.addSeries(series)
            series.attachAxis(x_axis)
            series.attachAxis(axis)
        x_axis.setRange(-0.5, max(len(hours) - 0.5, 0.5))
        kph_axis.setRange(0, max(1000.0, top_kph * 1.15))
        kph_axis.applyNiceNumbers()
        # Round ticks ending at 100%: a step that gives at most six of them.
        low = max(0.0, min(99.0, low_accuracy - 0.5))
        step = next(s for s in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0) if (100.0 - low) / s <= 5)
        accuracy_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        accuracy_axis.setTickAnchor(100.0)
        accuracy_axis.setTickInterval(step)
        accuracy_axis.setLabelFormat("%.1f" if step < 1 else "%d")
        accuracy_axis.setRange(100.0 - step * math.ceil((100.0 - low) / step), 100.0)
        chart.legend().setVisible(bool(hours))

    @staticmethod
    def _series(name: str, colour: QColor) -> QLineSeries:
        series = QLineSeries()
        series.setName(name)
        pen = QPen(colour)
        pen.setWidthF(2.0)
        series.setPen(pen)
        series.setPointsVisible(True)
        series.setMarkerSize(5.0)
        return series


class FieldErrorsChartWidget(_ChartView):
    """The fields with the most errors, as horizontal bars (the worst at the top).

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("fieldErrorsChart", "Errors by field", parent)
        self.categories: list[str] = []

    def set_fields(self, fields: Sequence[FieldErrors], several_templates: bool) -> None:
        chart = self._clear()
        worst = [f for f in fields if f.errors][:TOP_FIELDS]
        chart.setTitle("Errors by field" if worst else "Errors by field: none in this period")
        self.categories = [f"{f.field} ({f.template})" if several_templates else f.field for f in reversed(worst)]
        bars = QBarSet("Errors")
        bars.setColor(BAR_COLOUR)
        bars.setBorderColor(BAR_COLOUR)
        for f in reversed(worst):
            bars.append(f.errors)
        series = QHorizontalBarSeries()
        series.append(bars)
        series.setLabelsVisible(True)
        series.setBarWidth(0.7)
        chart.addSeries(series)
        names = QBarCategoryAxis()
        names.append(self.categories)
        small = QFont(names.labelsFont())
        small.setPointSizeF(8.0)
        names.setLabelsFont(small)
        counts = QValueAxis()
        counts.setLabelFormat("%d")
        top = max([f.errors for f in worst], default=1)
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if top / s <= 6)
        counts.setTickType(QValueAxis.TickType.TicksDynamic)
        counts.setTickAnchor(0)
        counts.setTickInterval(step)
        counts.setRange(0, (top // step + 1) * step)
        chart.addAxis(names, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(counts, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(names)
        series.attachAxis(counts)
        chart.legend().setVisible(False)


class ErrorClassChartWidget(_ChartView):
    """The error taxonomy as a ring: substitution, transposition, omission, insertion, other.

    Signals: none (it only displays).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("errorClassChart", "Errors by class", parent)
        self.slices: dict[str, int] = {}

    def set_classes(self, counts: dict[str, int]) -> None:
        chart = self._clear()
        total = sum(counts.values())
        chart.setTitle(f"Errors by class ({total})" if total else "Errors by class: none in this period")
        series = QPieSeries()
        series.setHoleSize(0.45)
        series.setPieSize(0.9)
        self.slices = {name: count for name, count in counts.items() if count}
        for name, count in self.slices.items():
            piece = series.append(f"{name} {count}", count)
            piece.setBrush(QBrush(CLASS_COLOURS.get(name, CLASS_COLOURS["other"])))
            piece.setBorderColor(QColor("#ffffff"))
            piece.setLabelVisible(False)
        chart.addSeries(series)
        legend = chart.legend()
        legend.setVisible(bool(self.slices))
        legend.setAlignment(Qt.AlignmentFlag.AlignRight)
        small = QFont(legend.font())
        small.setPointSizeF(8.0)
        legend.setFont(small)
        # Qt gives a side legend too little room for "transposition 12"; ask for what the names need.
        longest = max((f"{name} {count}" for name, count in self.slices.items()), key=len, default="")
        legend.setMinimumWidth(QFontMetricsF(small).horizontalAdvance(longest) + 40)
