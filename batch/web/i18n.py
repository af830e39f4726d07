"""Every text of the web app, in English and Dutch; the browser's Accept-Language chooses.

t = translator(request.headers.get("accept-language"))
t("apply_n", n=3)   -> "Apply 3 changes" / "3 wijzigingen toepassen"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

LANGUAGES: Final = ("en", "nl")

CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # key: (English, Dutch)
    "app_name": ("Zoom license batch", "Zoom-licenties in bulk"),
    "sandbox_banner": (
        "SANDBOX: an emulated account, no real Zoom account is touched.",
        "SANDBOX: een nagebootst account, er wordt geen echt Zoom-account gewijzigd.",
    ),
    "account": ("Account", "Account"),
    "nav_upload": ("Upload", "Uploaden"),
    "nav_history": ("History", "Geschiedenis"),
    "nav_users": ("Users", "Gebruikers"),
    "sign_out": ("Sign out", "Afmelden"),
    "signed_in_as": ("Signed in as", "Aangemeld als"),
    "sign_in": ("Sign in", "Aanmelden"),
    "username": ("User name", "Gebruikersnaam"),
    "password": ("Password", "Wachtwoord"),
    "sign_in_failed": ("Wrong user name or password.", "Onjuiste gebruikersnaam of wachtwoord."),
    "upload_title": ("Upload a file", "Een bestand uploaden"),
    "upload_help": (
        "A CSV or XLSX file of users and licenses. Nothing changes until you apply the plan.",
        "Een CSV- of XLSX-bestand met gebruikers en licenties. Er verandert niets tot u het "
        "plan toepast.",
    ),
    "file": ("File", "Bestand"),
    "mode": ("Mode", "Modus"),
    "mode_apply": ("apply: do what the file says", "apply: doe wat het bestand zegt"),
    "mode_sync": (
        "sync: the file is the complete state; others lose the license",
        "sync: het bestand is de volledige stand; anderen verliezen de licentie",
    ),
    "max_removals": ("Max removals (sync)", "Max. verwijderingen (sync)"),
    "all_or_nothing": ("All or nothing per license", "Alles of niets per licentie"),
    "plan_button": ("Check and preview", "Controleren en bekijken"),
    "viewer_no_upload": (
        "You can read the history and reports; uploading needs the admin role.",
        "U kunt de geschiedenis en rapporten lezen; uploaden vraagt de rol admin.",
    ),
    "refused": ("Refused", "Geweigerd"),
    "preview_title": ("Preview", "Voorbeeld"),
    "counts": ("Lines per outcome", "Regels per uitkomst"),
    "actions": ("Lines per action", "Regels per actie"),
    "seats": ("Seats: used / purchased", "Plaatsen: gebruikt / gekocht"),
    "license": ("License", "Licentie"),
    "before": ("Before", "Voor"),
    "after": ("After", "Na"),
    "change": ("Change", "Verschil"),
    "cost": ("Monthly cost change", "Maandelijkse kostenwijziging"),
    "lines": ("Lines", "Regels"),
    "row": ("Row", "Rij"),
    "email": ("Email", "E-mail"),
    "action": ("Action", "Actie"),
    "outcome": ("Outcome", "Uitkomst"),
    "code": ("Code", "Code"),
    "message": ("Message", "Melding"),
    "any": ("(any)", "(alle)"),
    "search_email": ("Email contains", "E-mail bevat"),
    "sort": ("Sort", "Sorteren"),
    "problems_first": ("problems first", "problemen eerst"),
    "filter": ("Filter", "Filteren"),
    "page_of": ("Page {page} of {pages} ({n} lines)", "Pagina {page} van {pages} ({n} regels)"),
    "previous": ("Previous", "Vorige"),
    "next": ("Next", "Volgende"),
    "plan_report": ("Download the plan report (XLSX)", "Planrapport downloaden (XLSX)"),
    "apply_n": ("Apply {n} changes", "{n} wijzigingen toepassen"),
    "nothing_to_apply": ("Nothing to apply.", "Niets toe te passen."),
    "removals_warning": (
        "This sync removes {n} licenses. Type {n} to confirm.",
        "Deze sync verwijdert {n} licenties. Typ {n} om te bevestigen.",
    ),
    "confirm_removals": ("Removals to confirm", "Te bevestigen verwijderingen"),
    "removals_mismatch": (
        "Type the number of removals to apply them.",
        "Typ het aantal verwijderingen om ze toe te passen.",
    ),
    "plan_changed": (
        "The account changed since the preview, so the plan changed. Nothing was applied. "
        "Review the new plan below and apply again:",
        "Het account is sinds het voorbeeld gewijzigd, dus het plan ook. Er is niets "
        "toegepast. Bekijk het nieuwe plan hieronder en pas opnieuw toe:",
    ),
    "difference_legend": (
        "- no longer in the plan, + new in the plan",
        "- niet meer in het plan, + nieuw in het plan",
    ),
    "upload_another": ("Upload another file", "Een ander bestand uploaden"),
    "run_title": ("Run", "Run"),
    "status": ("Status", "Status"),
    "started_by": ("Started by", "Gestart door"),
    "when": ("When", "Wanneer"),
    "source": ("From", "Vanuit"),
    "progress": ("Progress", "Voortgang"),
    "phase": ("Phase", "Fase"),
    "rate": ("per second", "per seconde"),
    "eta": ("left", "resterend"),
    "cancel": ("Cancel", "Annuleren"),
    "resume": ("Resume", "Hervatten"),
    "report": ("Report", "Rapport"),
    "download_report": ("Download the report (XLSX)", "Rapport downloaden (XLSX)"),
    "problems": ("Problems", "Problemen"),
    "history_title": ("History: every run", "Geschiedenis: alle runs"),
    "file_name": ("File", "Bestand"),
    "who": ("Who", "Wie"),
    "none_yet": ("No runs yet.", "Nog geen runs."),
    "not_found": ("Not found.", "Niet gevonden."),
    "conflict": (
        "This run is not in a state for that (it may have started or ended already).",
        "Deze run is daar niet klaar voor (misschien al gestart of klaar).",
    ),
    "bad_request": ("The request was incomplete:", "Het verzoek was onvolledig:"),
    "forbidden": ("Your role cannot do this.", "Uw rol mag dit niet."),
    "csrf": (
        "The form was stale or not from this site. Reload the page and try again.",
        "Het formulier was verlopen of niet van deze site. Laad de pagina opnieuw.",
    ),
    "error": ("Something went wrong; it is in the server log.", "Er ging iets mis; zie het log."),
    "users_title": ("A user's licenses", "Licenties van een gebruiker"),
    "users_search": ("Search by email or name", "Zoeken op e-mail of naam"),
    "search": ("Search", "Zoeken"),
    "type": ("Type", "Type"),
    "save_change": ("Preview this change", "Deze wijziging bekijken"),
    "no_size": ("none", "geen"),
    "working": ("Working...", "Bezig..."),
}


def choose_language(accept_language: str | None) -> str:
    """The best of LANGUAGES for an Accept-Language header (English when none fits)."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def translator(language: str) -> Callable[..., str]:
    """t(key, **values): the catalogue's text in `language`, values filled in."""
    index = LANGUAGES.index(language) if language in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        text = CATALOGUE[key][index]
        return text.format(**values) if values else text

    return t
