"""A synthetic scan for UI tests: a form drawn with Pillow, boxes at the template's zones.

Gives plain grayscale bytes, the same shape as workstation.images.DecodedPage, so the tests feed
the widgets exactly what the core will.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from workstation.templates import FormTemplate

SAMPLE_VALUES = {
    "insured_id": "XGH4471290",
    "patient_last_name": "O'BRIEN-MARSH",
    "patient_first_name": "KATHLEEN",
    "patient_dob": "03/07/1961",
    "patient_sex": "F",
    "patient_address": "1187 WINDING CREEK RD APT 4",
    "patient_city": "SPRINGFIELD",
    "patient_state": "IL",
    "patient_zip": "62704",
    "diagnosis_1": "J06.9",
    "diagnosis_2": "R05.9",
    "service_date": "02/14/24",
    "place": "11",
    "cpt": "99213",
    "modifier": "25",
    "pointer": "A",
    "charge": "145.00",
    "units": "1",
    "total_charge": "290.00",
    "billing_npi": "1234567893",
    "federal_tax_id": "364821907",
    "signature_date": "02/20/2024",
}


@dataclass(frozen=True)
class SyntheticPage:
    width: int
    height: int
    pixels: bytes


def draw_form_page(template: FormTemplate, width: int = 1700, height: int = 2200, *, rows: int = 2) -> SyntheticPage:
    """A white page with the template's title, a labelled box per zone and a value in it."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    small = ImageFont.load_default(size=max(10, height // 150))
    value_font = ImageFont.load_default(size=max(12, height // 90))
    title_font = ImageFont.load_default(size=max(16, height // 60))
    draw.text((width * 0.06, height * 0.05), template.title.upper(), fill=0, font=title_font)
    draw.line([(width * 0.06, height * 0.09), (width * 0.94, height * 0.09)], fill=0, width=max(2, width // 600))

    def box(path: str, label: str, value: str) -> None:
        zone = template.zone(path)
        if zone is None:
            return
        left, top, right, bottom = zone.to_pixels(width, height)
        draw.rectangle([left, top, right, bottom], outline=90, width=max(1, width // 900))
        draw.text((left + 2, top - small.size - 4), label, fill=70, font=small)
        draw.text((left + (bottom - top) * 0.3, top + (bottom - top) * 0.12), value, fill=15, font=value_font)

    for spec in template.fields:
        box(spec.key, spec.label, SAMPLE_VALUES.get(spec.key, spec.key.upper()[:12]))
    for section in template.sections:
        for row in range(1, min(rows, section.max_rows) + 1):
            for spec in section.fields:
                label = spec.label if row == 1 else ""
                box(f"{section.key}[{row}].{spec.key}", label, SAMPLE_VALUES.get(spec.key, spec.key.upper()[:6]))
    return SyntheticPage(width, height, image.tobytes())
