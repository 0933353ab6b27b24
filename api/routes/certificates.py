"""Checking a certificate by its code: public, no token, and nothing about the learner.

`GET /api/v1/certificates/{code}` answers JSON (or a small page, for a browser that opened
the QR code); `GET /api/v1/certificates/{code}.png` answers the certificate's picture.
Unknown codes get 404; withdrawn certificates (the learner deleted their data) get 410.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse

from api.deps import ApiContext, ContextDep
from api.schemas import PublicCertificate
from bot.certificate_image import (
    CertificateView,
    check_url,
    describe,
    render_png,
    vietnamese_date,
)
from bot.engine import texts
from bot.engine.certificates import CERTIFICATES_PATH
from storage.certcode import display_code
from storage.certificates import find_certificate

router = APIRouter(prefix=CERTIFICATES_PATH, tags=["certificates"])

_ERRORS: dict[int | str, dict[str, object]] = {
    status.HTTP_404_NOT_FOUND: {"description": "No certificate has this code."},
    status.HTTP_410_GONE: {"description": "The certificate was withdrawn."},
}
# The picture changes only if the certificate is withdrawn; let phones keep it a little.
_IMAGE_CACHE = "public, max-age=300"


def _view(context: ApiContext, code: str) -> CertificateView:
    """The certificate with this code, or the 404 / 410 that explains why there is none."""
    record = find_certificate(context.database, code)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=texts.CERTIFICATE_UNKNOWN)
    if not record.valid:
        raise HTTPException(status.HTTP_410_GONE, detail=texts.CERTIFICATE_WITHDRAWN)
    return describe(record, context.content, context.commune)


@router.get(
    "/{code}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **_ERRORS},
)
def get_certificate_image(code: str, context: ContextDep, request: Request) -> Response:
    """The certificate as a PNG picture, with a QR code to the page that checks it."""
    view = _view(context, code)
    base = context.public_url or str(request.base_url)
    png = render_png(view, check_url(base, view.code))
    return Response(png, media_type="image/png", headers={"Cache-Control": _IMAGE_CACHE})


@router.get("/{code}", response_model=PublicCertificate, responses=_ERRORS)
def get_certificate(
    code: str, context: ContextDep, request: Request
) -> PublicCertificate | Response:
    """Whether a certificate is genuine: initials, hamlet, group, date and lessons only."""
    view = _view(context, code)
    found = PublicCertificate(
        initials=view.initials,
        hamlet=view.hamlet,
        group=view.group,
        issued_on=view.issued_on,
        lessons=list(view.lessons),
        valid=view.valid,
    )
    if _wants_html(request):
        return HTMLResponse(_page(view))
    return found


def _wants_html(request: Request) -> bool:
    """A browser (someone who scanned the QR code) rather than a program."""
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _page(view: CertificateView) -> str:
    """A plain page saying the certificate is genuine, readable on a phone."""
    rows = [
        texts.CERTIFICATE_GROUP.format(group=view.group),
        *([texts.CERTIFICATE_HAMLET.format(hamlet=view.hamlet)] if view.hamlet else []),
        texts.CERTIFICATE_DATE.format(date=vietnamese_date(view.issued_on)),
        texts.CERTIFICATE_CODE.format(code=display_code(view.code)),
    ]
    if view.initials:
        rows.insert(0, texts.CERTIFICATE_LEARNER.format(initials=view.initials))
    lessons = "".join(f"<li>{escape(title)}</li>" for title in view.lessons)
    details = "".join(f"<p>{escape(row)}</p>" for row in rows)
    return (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(texts.CERTIFICATE_TITLE)}</title>"
        "<style>body{font-family:sans-serif;max-width:36rem;margin:1.5rem auto;"
        "padding:0 1rem;line-height:1.5}h1{color:#a01818;font-size:1.5rem}"
        ".ok{font-weight:bold;color:#17692b}small{color:#666}</style></head><body>"
        f"<h1>{escape(texts.CERTIFICATE_TITLE)}</h1>"
        f'<p class="ok">{escape(texts.CERTIFICATE_VALID)}</p>'
        f"<p>{escape(texts.CERTIFICATE_MOVEMENT.format(commune=view.commune))}</p>"
        f"{details}<p><b>{escape(texts.CERTIFICATE_LESSONS)}</b></p><ul>{lessons}</ul>"
        f"<p><small>{escape(texts.CERTIFICATE_FOOTNOTE)}</small></p></body></html>"
    )
