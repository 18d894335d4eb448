"""The staff pages of an import from a spreadsheet, added to a registry's blueprint: upload, preview,
confirm with the preview's digest, discard. The buyer and interpreter imports show the same steps;
each says what differs (its importer, policies, templates and messages)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from consultroom.access import authorize, get_or_404
from consultroom.extensions import db
from consultroom.forms_util import DiscardImportForm, ImportForm
from consultroom.request_transaction import attempt, log_access
from consultroom.table_import import MAX_BYTES, Importer, ParsedUpload, batch_expired


@dataclass(frozen=True)
class ImportPages:
    importer: Importer
    parse: Callable[[str, bytes], ParsedUpload]
    staff: Callable[[], None]  # aborts unless the user keeps the registry (access.authorize)
    uploader: Callable[[Any, Any], bool]  # (user, batch): the policy that makes a batch its uploader's
    # Templates <folder>/import.html, <folder>/preview.html (extending imports/preview.html) and
    # <folder>/_labels.html with a field_name macro.
    folder: str
    index: str  # the list's endpoint, shown after an import
    confirm_form: type[FlaskForm]
    aliases: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    subject: str  # the access log's subject type of a registered record a row repeats
    imported: Callable[[int, int], str]  # the message after an import: (created, skipped)

    def register(self, bp: Blueprint, path: str) -> None:
        """Routes import_upload, import_preview, import_confirm and import_discard under `path`."""
        bp.add_url_rule(path, "import_upload", login_required(self.upload), methods=["GET", "POST"])
        bp.add_url_rule(f"{path}/<int:batch_id>", "import_preview", login_required(self.preview))
        bp.add_url_rule(
            f"{path}/<int:batch_id>/confirm", "import_confirm", login_required(self.confirm), methods=["POST"]
        )
        bp.add_url_rule(
            f"{path}/<int:batch_id>/discard", "import_discard", login_required(self.discard), methods=["POST"]
        )

    @staticmethod
    def _endpoint(name: str) -> str:
        return f"{request.blueprint}.{name}"

    def upload(self):
        self.staff()
        form = ImportForm()
        if form.validate_on_submit():
            upload = form.file.data
            # Read one byte past the limit: enough to tell a file that is too large, without reading it all.
            raw = upload.stream.read(MAX_BYTES + 1)
            with attempt(form) as done:
                parsed = self.parse(upload.filename or "", raw)
                batch = self.importer.save_batch(parsed=parsed, actor=current_user)
            if done:
                return redirect(url_for(self._endpoint("import_preview"), batch_id=batch.id))
        return render_template(f"{self.folder}/import.html", form=form, aliases=self.aliases, required=self.required)

    def _batch(self, batch_id: int):
        self.staff()
        batch = get_or_404(db.session, self.importer.batch_model, batch_id)
        # Another person's upload is not theirs to see: it holds personal data they did not bring in.
        authorize(self.uploader(current_user, batch))
        return batch

    def preview(self, batch_id: int):
        batch = self._batch(batch_id)
        expired = batch.status == "pending" and batch_expired(batch)
        preview = self.importer.preview_batch(batch) if batch.status == "pending" and not expired else None
        page_html = render_template(
            f"{self.folder}/preview.html",
            folder=self.folder,
            batch=batch,
            expired=expired,
            preview=preview,
            confirm_form=self.confirm_form(digest=preview.digest) if preview else None,
            discard_form=DiscardImportForm(),
            shown_limit=500,
        )
        # The file's rows are the uploader's own; a row found to be registered tells them who is.
        registered = (
            sorted({r.duplicate_of_record for r in preview.duplicates if r.duplicate_of_record}) if preview else []
        )
        log_access(
            actor=current_user,
            subjects=[(self.subject, i) for i in registered],
            what=self._endpoint("import_preview"),
        )
        return page_html

    def confirm(self, batch_id: int):
        batch = self._batch(batch_id)
        form = self.confirm_form()
        if not form.validate_on_submit():
            flash(_("Nothing was imported. Please try again."), "danger")
            return redirect(url_for(self._endpoint("import_preview"), batch_id=batch.id))
        with attempt() as done:
            preview = self.importer.confirm_batch(batch=batch, digest=form.digest.data or "", actor=current_user)
        if not done:
            return redirect(url_for(self._endpoint("import_preview"), batch_id=batch_id))
        flash(self.imported(len(preview.to_create), len(preview.duplicates)), "success")
        return redirect(url_for(self.index))

    def discard(self, batch_id: int):
        batch = self._batch(batch_id)
        form = DiscardImportForm()
        if not form.validate_on_submit():
            flash(_("Nothing was changed. Please try again."), "danger")
            return redirect(url_for(self._endpoint("import_preview"), batch_id=batch.id))
        with attempt() as done:
            self.importer.discard_batch(batch=batch, actor=current_user)
        if not done:
            return redirect(url_for(self._endpoint("import_preview"), batch_id=batch_id))
        flash(_("The upload is discarded; nothing was imported."), "info")
        return redirect(url_for(self._endpoint("import_upload")))
