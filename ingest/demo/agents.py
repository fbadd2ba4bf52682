"""Demo agents: names, SVG avatars and each agent's plan (models, launch, BYOK, prompt sizes)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import numpy as np

from .catalog import M

AGENT_NAMES = [
    "Brújula · Soporte al cliente",
    "Cervantes · Redacción",
    "Faro · Base de conocimiento",
    "Lince · Detección de fraude",
    "Colibrí · Atención por WhatsApp",
    "Quijote · Contratos",
    "Sancho · Asistente de ventas",
    "Alhambra · Reservas",
    "Giralda · Turismo",
    "Tizona · Ciberseguridad",
    "Azahar · Marketing",
    "Mirlo · Transcripción de llamadas",
    "Veleta · Previsión de demanda",
    "Atalaya · Cumplimiento normativo",
    "Candela · Recursos humanos",
    "Duende · Onboarding",
    "Albero · Logística",
    "Pícaro · Cobros",
    "Retablo · Catálogo de productos",
    "Zarzuela · Redes sociales",
    "Olivo · Finanzas",
    "Marea · Incidencias TI",
    "Jara · Compras",
    "Estela · Formación",
    "Cigarra · Encuestas",
    "Tertulia · Chat interno",
    "Mudéjar · Traducción",
    "Alborada · Informes",
    "Romero · Prevención de riesgos",
    "Sobremesa · Recetas",
]
AVATAR_COLORS = ["#e76f51", "#2a9d8f", "#264653", "#f4a261", "#8e44ad", "#3a86ff", "#d62828", "#588157"]


@dataclass
class Agent:
    id: str
    name: str
    avatar_url: str | None
    weight: float
    model: int
    old_model: int
    switch_day: int
    launch_day: int
    rag: bool
    guard: bool
    byok_p: float
    byok_cost: bool
    prompt_median: float
    output_median: float


def _avatar(name: str, color: str) -> str:
    """A small robot portrait on the agent's colour (an image, unlike the UI's initials)."""
    del name  # every agent gets the same face; the colour tells them apart
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='64' height='64' viewBox='0 0 64 64'>"
        f"<rect width='64' height='64' rx='32' fill='{color}'/>"
        "<rect x='30' y='10' width='4' height='8' rx='2' fill='white'/>"
        "<circle cx='32' cy='10' r='4' fill='white'/>"
        "<rect x='14' y='18' width='36' height='30' rx='9' fill='white'/>"
        f"<circle cx='25' cy='32' r='5' fill='{color}'/><circle cx='39' cy='32' r='5' fill='{color}'/>"
        f"<rect x='24' y='41' width='16' height='3' rx='1.5' fill='{color}'/>"
        "</svg>"
    )
    return "data:image/svg+xml;charset=utf-8," + quote(svg)


def _slug(name: str) -> str:
    import unicodedata

    s = unicodedata.normalize("NFKD", name.split(" · ")[0]).encode("ascii", "ignore").decode()
    return s.lower().replace(" ", "-")


def plan_agents(rng, org_id: str, profile: dict, days: int) -> list[Agent]:
    n = 20 + int(rng.integers(0, 6))
    names = rng.permutation(AGENT_NAMES)[:n]
    weights = 1.0 / np.arange(1, n + 1) ** 0.9
    weights /= weights.sum()
    chat = list(profile["chat"])
    p = np.array([profile["chat"][m] for m in chat], dtype=float)
    models = list(rng.choice(chat, size=n, p=p / p.sum()))
    for k, m in enumerate(profile["must"]):  # every profile model shows up somewhere
        if m not in models:
            models[n - 1 - k] = m
    migrate = profile["migrate"]  # some agents on the new model came from the old one
    byok_order = [k for k in rng.permutation(np.arange(1, n))]
    byok, share = set(), 0.0
    for k in byok_order:
        if share >= 0.3:
            break
        byok.add(k)
        share += weights[k]
    p_hi = min(0.97, max(0.35, (0.34 - 0.04 * (1 - share)) / max(share, 1e-9)))
    out = []
    for k, name in enumerate(names):
        model = M[models[k]]
        old = -1
        switch = -1
        if migrate and models[k] == migrate[1] and k < n // 2 and rng.random() < 0.7:
            old, switch = M[migrate[0]], int(days * rng.uniform(0.45, 0.6))
        launched_late = k > 2 and rng.random() < 0.3
        out.append(
            Agent(
                id=f"{org_id}-{_slug(name)}",
                name=str(name),
                avatar_url=_avatar(str(name), AVATAR_COLORS[k % len(AVATAR_COLORS)]) if rng.random() < 0.55 else None,
                weight=float(weights[k]),
                model=model,
                old_model=old,
                switch_day=switch,
                launch_day=int(days * rng.uniform(0.1, 0.8)) if launched_late else -1,
                rag=bool(rng.random() < 0.7),
                guard=bool(rng.random() < 0.85),
                byok_p=p_hi if k in byok else 0.04,
                byok_cost=bool(rng.random() < 0.45),
                prompt_median=float(1800 * np.exp(rng.normal(0, 0.5))),
                output_median=float(300 * np.exp(rng.normal(0, 0.4))),
            )
        )
    return out
