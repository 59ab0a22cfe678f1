"""Add, edit, test and remove cloud volumes; secrets go to the OS keyring or stay in an environment variable."""

from __future__ import annotations

import contextlib
import json
import logging
import os

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sdgui.core.backends.factory import available_profiles
from sdgui.core.errors import ConfigError, KeyringUnavailableError, SdError
from sdgui.core.identity import describe_identity
from sdgui.core.probe import ProbeStep
from sdgui.core.secrets import KeyringStatus, SecretStore
from sdgui.core.volumes import VolumeConfig, VolumeRegistry
from sdgui.gui.dialogs.colors import ERROR_COLOR
from sdgui.gui.dialogs.connection_test import NO_ANSWER_S, ConnectionTest
from sdgui.gui.dialogs.secret_note import SecretNote
from sdgui.gui.dialogs.steady_layout import fix_label_column, reserve_lines
from sdgui.gui.dialogs.volume_presets import (
    B2_ENDPOINT,
    PRESETS,
    PRESETS_BY_KEY,
    Preset,
    preset_for,
    suggested_env_name,
)

log = logging.getLogger(__name__)


class VolumeDialog(QDialog):
    """Add one cloud volume, or edit ``config``; OK saves it to volumes.toml and its secret to the keyring.

    The layout stays put while the user types: every label whose text changes has a fixed height, and the results
    of Test connection have an area of their own below the form. ``silence_s``: how long Test connection waits
    for an answer.
    """

    def __init__(
        self, parent: QWidget | None = None, config: VolumeConfig | None = None, *, silence_s: float = NO_ANSWER_S
    ) -> None:
        super().__init__(parent)
        self.original = config
        self.editing = config is not None
        self.setWindowTitle(f"Edit volume {config.name}" if config else "Add cloud volume")
        self._preset = PRESETS[0]
        self._existing_names = _existing_names()
        self.tester = ConnectionTest(silence_s=silence_s)
        self._build()
        if config is not None:
            self._load(config)
        else:
            self._apply_preset(PRESETS[0])
        self.tester.clear()
        self._update()

    @property
    def keyring(self) -> KeyringStatus | None:
        """Where a typed secret would go; None until the keyring has answered."""
        return self.secret_note.status

    @property
    def probe_steps(self) -> list[ProbeStep]:
        """The steps of the last Test connection (empty once a field changed)."""
        return self.tester.steps

    # -- layout ----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.provider = QComboBox()
        for preset in PRESETS:
            self.provider.addItem(preset.title, preset.key)
        self.provider_help = QLabel()
        reserve_lines(self.provider_help, 2)
        self.provider_help.setStyleSheet("color: palette(placeholder-text)")
        self.name = QLineEdit()
        self.name.setPlaceholderText("a short name, e.g. photos")
        self.bucket = QLineEdit()
        self.endpoint = QLineEdit()
        self.region = QLineEdit()
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("optional folder inside the bucket, e.g. backups/laptop")
        self.path_style = QCheckBox("Path-style addressing (endpoint/bucket/key)")
        self.allow_http = QCheckBox("Allow plain http (credentials travel unencrypted)")
        self.read_only = QCheckBox("Read-only (never write to this volume)")
        # Where the credentials come from: keys typed here, or an AWS profile botocore resolves (s3 and r2).
        self.credentials = QComboBox()
        self.credentials.addItem("Access key and secret", None)
        for profile in available_profiles():
            self.credentials.addItem(f"AWS profile {profile}", profile)
        self.identity = QLabel()
        reserve_lines(self.identity, 2, Qt.AlignmentFlag.AlignVCenter)
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.sas = QCheckBox("The secret is a SAS token (sv=…&sig=…), not the account key")
        self.access_key_id = QLineEdit()
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.load_secret_button = QPushButton("Load from file…")
        self.load_secret_button.clicked.connect(self._choose_secret_file)
        secret_row = QWidget()
        secret_layout = QHBoxLayout(secret_row)
        secret_layout.setContentsMargins(0, 0, 0, 0)
        secret_layout.addWidget(self.secret, 1)
        secret_layout.addWidget(self.load_secret_button)
        self.use_env = QCheckBox("Keep the secret in an environment variable instead")
        self.env_name = QLineEdit()
        self.env_name.setPlaceholderText("SDGUI_SECRET_PHOTOS")
        # The secret and the variable's name share one row, and so do their notes: switching moves nothing.
        self.secret_stack = QStackedWidget()
        self.secret_stack.addWidget(secret_row)
        self.secret_stack.addWidget(self.env_name)
        self.secret_note = SecretNote()
        self.secret_note.use_env_requested.connect(self.use_environment_variable)
        self.secret_note.status_known.connect(self._update)
        self.keyring_label = self.secret_note.keyring_label
        self.use_env_button = self.secret_note.use_env_button
        self.env_status = self.secret_note.env_status

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Provider:", self.provider)
        form.addRow("", self.provider_help)
        form.addRow("Name:", self.name)
        form.addRow("Bucket:", self.bucket)
        form.addRow("Endpoint:", self.endpoint)
        form.addRow("Region:", self.region)
        form.addRow("", self.path_style)
        form.addRow("", self.allow_http)
        form.addRow("Prefix:", self.prefix)
        form.addRow("Credentials:", self.credentials)
        form.addRow("Access key ID:", self.access_key_id)
        form.addRow("", self.use_env)
        form.addRow("Secret:", self.secret_stack)
        form.addRow("", self.secret_note)
        form.addRow("", self.sas)
        form.addRow("", self.read_only)
        form.addRow("Identity:", self.identity)
        self.form = form
        self._secret_row = secret_row
        # As wide as the widest label any provider or mode shows.
        fix_label_column(form, {"Secret:", "Variable name:", *(t for p in PRESETS for t in p.labels.values())})

        self.error_label = QLabel()
        reserve_lines(self.error_label, 2)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR}")
        self.test_button = self.tester.test_button
        self.test_button.clicked.connect(self.start_test)
        self.stop_button = self.tester.stop_button
        self.test_summary = self.tester.summary
        self.test_steps = self.tester.steps_label
        self.tester.running_changed.connect(self._update)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save" if self.editing else "Add")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tester)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(640)

        self.provider.currentIndexChanged.connect(
            lambda _: self._apply_preset(PRESETS_BY_KEY[self.provider.currentData()])
        )
        # Any edit makes the last test's results stale: they go (and a test still running stops).
        edits = (self.name, self.bucket, self.endpoint, self.region, self.prefix, self.access_key_id)
        for edit in (*edits, self.secret, self.env_name):
            edit.textChanged.connect(self._edited)
        for box in (self.path_style, self.allow_http, self.use_env, self.read_only, self.sas):
            box.toggled.connect(self._edited)
        self.credentials.currentIndexChanged.connect(self._edited)

    def _load(self, config: VolumeConfig) -> None:
        preset = preset_for(config)
        self.provider.blockSignals(True)
        self.provider.setCurrentIndex(self.provider.findData(preset.key))
        self.provider.blockSignals(False)
        self._apply_preset(preset, fill_defaults=False)
        self.name.setText(config.name)
        self.name.setReadOnly(True)
        self.name.setToolTip("A volume's name cannot change; add a new volume and remove this one instead")
        self.bucket.setText(config.bucket or "")
        self.endpoint.setText(config.endpoint or "")
        self.region.setText(config.region or "")
        self.prefix.setText(config.prefix)
        self.path_style.setChecked(config.effective_path_style())
        self.allow_http.setChecked(config.allow_http)
        self.read_only.setChecked(config.read_only)
        self.sas.setChecked(bool(config.sas))
        self.access_key_id.setText(config.access_key_id or "")
        self.use_env.setChecked(config.secret_env is not None)
        self.env_name.setText(config.secret_env or "")
        if config.profile:
            if self.credentials.findData(config.profile) < 0:
                self.credentials.addItem(f"AWS profile {config.profile} (not in ~/.aws)", config.profile)
            self.credentials.setCurrentIndex(self.credentials.findData(config.profile))

    def _apply_preset(self, preset: Preset, *, fill_defaults: bool = True) -> None:
        previous, self._preset = self._preset, preset
        self.tester.clear()
        self.provider_help.setText(preset.help)
        for key, widget, default in (
            ("bucket", self.bucket, "Bucket:"),
            ("access_key_id", self.access_key_id, "Access key ID:"),
        ):
            label = self.form.labelForField(widget)
            if isinstance(label, QLabel):
                label.setText(preset.labels.get(key, default))
        self.bucket.setPlaceholderText("container name" if preset.kind == "azure" else "bucket name")
        self.endpoint.setPlaceholderText(preset.placeholders.get("endpoint", ""))
        self.region.setPlaceholderText(preset.placeholders.get("region", ""))
        self.access_key_id.setPlaceholderText(preset.placeholders.get("access_key_id", ""))
        self.form.setRowVisible(self.access_key_id, preset.kind != "gcs")
        self.load_secret_button.setVisible(preset.kind == "gcs")
        self.form.setRowVisible(self.sas, preset.kind == "azure")
        optional: tuple[tuple[str, QWidget], ...] = (
            ("endpoint", self.endpoint),
            ("region", self.region),
            ("path_style", self.path_style),
        )
        for name, row in optional:
            self.form.setRowVisible(row, name in preset.fields)
        # Shown with the endpoint whatever it holds (typing http:// must not push the rows below down), enabled
        # only where plain http is possible.
        self.form.setRowVisible(self.allow_http, bool({"endpoint", "allow_http"} & preset.fields))
        if fill_defaults:
            if preset.key == "r2" and not self.region.text():
                self.region.setText("auto")
            elif previous.key == "r2" and self.region.text() == "auto":
                self.region.clear()
            self.path_style.setChecked(preset.key == "minio")
        self._update()

    # -- values ----------------------------------------------------------------------------------------------
    def _text(self, edit: QLineEdit) -> str | None:
        return edit.text().strip() or None

    def config(self) -> VolumeConfig:
        """The volume the fields describe now (not validated)."""
        preset = self._preset
        fields = preset.fields
        endpoint = self._text(self.endpoint) if "endpoint" in fields else None
        region = self._text(self.region) if "region" in fields else None
        if preset.key == "b2" and endpoint is None and region:
            endpoint = B2_ENDPOINT.format(region=region)
        profile = self.profile()
        original = self.original
        return VolumeConfig(
            name=self.name.text().strip(),
            kind=preset.kind,
            bucket=self._text(self.bucket),
            endpoint=endpoint,
            region=region,
            prefix=self.prefix.text().strip().strip("/"),
            path_style=self.path_style.isChecked() if "path_style" in fields else None,
            access_key_id=self._text(self.access_key_id) if preset.kind != "gcs" and not profile else None,
            secret_env=self.env_name.text().strip() if self.use_env.isChecked() and not profile else None,
            allow_http=self.allow_http.isChecked() and self._allow_http_offered(endpoint),
            read_only=self.read_only.isChecked(),
            profile=profile,
            # Not editable here (set by `volume import rclone`): kept while no key is typed instead.
            service_account_file=original.service_account_file
            if original is not None and preset.kind == "gcs" and not self.secret.text().strip()
            else None,
            sas=True if preset.kind == "azure" and self.sas.isChecked() else None,
        )

    def profile(self) -> str | None:
        """The AWS profile chosen, for the s3 and r2 providers; None when keys are typed here."""
        if self._preset.kind not in ("s3", "r2"):
            return None
        data = self.credentials.currentData()
        return data if isinstance(data, str) else None

    def typed_secret(self) -> str | None:
        """The secret typed (or loaded) in the dialog, to be stored; a JSON key is compacted to one line."""
        if self.use_env.isChecked() or self.profile():
            return None
        return self._secret_text()

    def secret_for_test(self) -> str | None:
        """What Test connection uses: the typed secret, also while the chosen environment variable is not set in
        this session (a secret typed before switching to the variable is never saved, but it can be tried)."""
        if self.profile():
            return None
        if self.use_env.isChecked():
            name = self.env_name.text().strip()
            return self._secret_text() if name and not os.environ.get(name) else None
        return self._secret_text()

    def _secret_text(self) -> str | None:
        secret = self.secret.text().strip()
        if secret and self._preset.kind == "gcs":
            with contextlib.suppress(ValueError):
                secret = json.dumps(json.loads(secret), separators=(",", ":"))
        return secret or None

    def _allow_http_offered(self, endpoint: str | None) -> bool:
        return "allow_http" in self._preset.fields or (endpoint or "").startswith("http://")

    def _keeps_stored_secret(self) -> bool:
        """Editing, and the saved volume already has a keyring secret that this config would use."""
        original = self.original
        return (
            original is not None
            and original.secret_env is None
            and (original.access_key_id is not None or original.kind == "gcs")
        )

    def problem(self, *, for_test: bool = False) -> str | None:
        """What keeps the dialog from saving (or testing) its values, as one sentence; None when all is well."""
        config = self.config()
        noun = "container" if config.kind == "azure" else "bucket"
        if not config.name:
            return "Enter a name for the volume."
        if not config.bucket:
            return f"Enter the {noun} name."
        if config.kind == "r2" and not config.endpoint and not config.profile:
            return "Enter the R2 endpoint, https://<account-id>.r2.cloudflarestorage.com."
        if self._preset.key == "b2" and not config.endpoint:
            return "Enter the bucket's region (e.g. us-west-004) or its endpoint."
        if self._preset.key == "minio" and not config.endpoint:
            return "Enter the service's endpoint URL."
        if config.kind == "azure" and not config.access_key_id:
            return "Enter the storage account name."
        if config.profile:
            return self._name_problem(config, for_test=for_test)
        if self.use_env.isChecked() and not config.secret_env:
            return "Enter the name of the environment variable that holds the secret."
        if (config.endpoint or "").startswith("http://") and not config.allow_http:
            return "The endpoint uses plain http: use https, or tick “Allow plain http” to send keys unencrypted."
        try:
            config.validate()
        except ConfigError as exc:
            return exc.detail[:1].upper() + exc.detail[1:] + "."
        secret = self.typed_secret()
        if secret and config.kind == "gcs":
            try:
                key = json.loads(secret)
            except ValueError:
                return "The service-account key must be the contents of its JSON file."
            if not isinstance(key, dict) or "private_key" not in key:
                return "This JSON is not a service-account key (it has no private_key)."
        if secret and config.kind != "gcs" and not config.access_key_id:
            return "A secret needs an access key ID."
        if config.access_key_id and config.secret_env is None and not secret and not self._keeps_stored_secret():
            return "Enter the secret, or keep it in an environment variable."
        if secret and not for_test and self.keyring is not None and not self.keyring.available:
            return "No OS keyring to save this secret in: use an environment variable (Test connection still works)."
        return self._name_problem(config, for_test=for_test)

    def _name_problem(self, config: VolumeConfig, *, for_test: bool) -> str | None:
        if (config.endpoint or "").startswith("http://") and not config.allow_http:
            return "The endpoint uses plain http: use https, or tick “Allow plain http” to send keys unencrypted."
        try:
            config.validate()
        except ConfigError as exc:
            return exc.detail[:1].upper() + exc.detail[1:] + "."
        if not for_test and not self.editing and config.name in self._existing_names:
            return f"A volume named {config.name} already exists."
        return None

    @Slot()
    def _edited(self) -> None:
        self.tester.clear()
        self._update()

    @Slot()
    def _update(self) -> None:
        config = self.config()
        self.allow_http.setEnabled(self._allow_http_offered(config.endpoint))
        by_profile = config.profile is not None
        self.form.setRowVisible(self.credentials, self._preset.kind in ("s3", "r2") and self.credentials.count() > 1)
        self.form.setRowVisible(self.access_key_id, self._preset.kind != "gcs" and not by_profile)
        self.form.setRowVisible(self.use_env, not by_profile)
        self.identity.setText(describe_identity(config) + (" (its region and endpoint apply)" if by_profile else ""))
        using_env = self.use_env.isChecked() and not by_profile
        self.form.setRowVisible(self.secret_stack, not by_profile)
        self.form.setRowVisible(self.secret_note, not by_profile)
        self.secret_stack.setCurrentWidget(self.env_name if using_env else self._secret_row)
        label = self.form.labelForField(self.secret_stack)
        if isinstance(label, QLabel):
            label.setText("Variable name:" if using_env else self._preset.labels.get("secret", "Secret:"))
        if using_env:
            self.secret_note.show_environment(config.secret_env, secret_typed=bool(self.secret.text().strip()))
        else:
            self.secret_note.show_keyring()
        if self._preset.key == "b2":
            region = self.region.text().strip() or "<region>"
            self.endpoint.setPlaceholderText(B2_ENDPOINT.format(region=region))
        stored = self._keeps_stored_secret()
        self.secret.setPlaceholderText(
            "leave empty to keep the stored secret"
            if stored
            else self._preset.placeholders.get("secret", "stored in the OS keyring")
        )
        problem = self.problem()
        self.error_label.setText(problem or "")
        self.error_label.setToolTip(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        self.test_button.setEnabled(not self.tester.is_running and self.problem(for_test=True) is None)

    # -- where the secret goes -------------------------------------------------------------------------------
    @Slot()
    def use_environment_variable(self) -> None:
        """Switch to keeping the secret in an environment variable, suggesting a name from the volume's."""
        if not self.env_name.text().strip():
            self.env_name.setText(suggested_env_name(self.name.text().strip()))
        self.use_env.setChecked(True)
        self.env_name.setFocus()

    # -- secret from a file (GCS) ----------------------------------------------------------------------------
    def _choose_secret_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Service-account key", "", "JSON files (*.json);;All files (*)")
        if path:
            self.load_secret_file(path)

    def load_secret_file(self, path: str) -> None:
        """Put the contents of a key file into the secret field (it is never shown)."""
        try:
            with open(path, encoding="utf-8") as file:
                self.secret.setText(file.read().strip())
        except (OSError, UnicodeDecodeError) as exc:
            self.error_label.setText(f"Cannot read {path}: {exc}")
            self.error_label.show()

    # -- test connection -------------------------------------------------------------------------------------
    @Slot()
    def start_test(self) -> None:
        """Probe the volume the fields describe, on the thread pool; nothing is saved."""
        if self.tester.is_running or self.problem(for_test=True) is not None:
            return
        self.tester.start(self.config(), self.secret_for_test())

    # -- saving ----------------------------------------------------------------------------------------------
    def accept(self) -> None:
        """Store the secret in the keyring and the volume in volumes.toml; stay open and explain on failure."""
        if self.problem() is not None:
            return
        config, secret = self.config(), self.typed_secret()
        registry = VolumeRegistry()  # a fresh one: nothing added here survives a failure below
        try:
            registry.add(config, replace=self.editing)
            if secret:
                SecretStore().set(config.name, secret)
            registry.save()
        except KeyringUnavailableError as exc:
            # The keyring said it was there, then refused: keep what was typed and say what to do instead.
            self.secret_note.keyring_refused()
            self.error_label.setText(exc.message)
            return
        except SdError as exc:
            self.error_label.setText(exc.message)
            self.error_label.show()
            return
        if config.secret_env is not None or (config.access_key_id is None and config.kind != "gcs"):
            # The keyring entry would never be read again; do not leave a secret lying around.
            with contextlib.suppress(KeyringUnavailableError):
                SecretStore().delete(config.name)
        super().accept()

    def done(self, result: int) -> None:
        # A probe still running reports to nobody; it runs to its end (deleting its probe object).
        self.tester.abandon()
        self.secret_note.detach()
        super().done(result)


def _existing_names() -> set[str]:
    try:
        return {config.name for config in VolumeRegistry().list()}
    except SdError:
        return set()
