"""The results list: which result is active, which one is compared, Remove and its undo.

Two independent choices per row, each with its own control: a radio button (the active
result: the views, the cursor and the heatmap follow it) and a check box (the result
drawn beside it on the matrix). The highlighted row is the active row; Remove removes
it, and "Undo remove" (Ctrl+Z in the list) brings back the last removed result while
the same recordings are open.

Observes the Session (``alignment_added``, ``alignment_removed``,
``active_alignment_changed``, ``compared_alignment_changed``, ``recording_opened``,
``recordings_swapped``). GUI thread only.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QIcon, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QRadioButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .views.legend import short_names

__all__ = ["ResultsList", "result_tooltip"]

COL_ACTIVE, COL_COMPARE, COL_DIST, COL_NAME = range(4)


@dataclasses.dataclass(frozen=True)
class _Removed:
    """What Remove took away, enough to put it back."""

    alignment: object
    recipe: object
    label: str
    image: object
    inputs: dict


def result_tooltip(session, aid: int) -> str:
    """What tells a result apart: method, features, the user's values that differ from
    the defaults, the distance and the time it took (no engine internals)."""
    from core import registry

    al = session.alignment(aid)
    recipe = session.recipe(aid)
    if al is None:
        return ""
    entry = registry.METHODS.get(recipe.method) if recipe is not None else None
    lines = [f"#{aid} {entry.title if entry is not None else al.method}"]
    if recipe is not None and recipe.features_a and recipe.features_b:
        fa = ", ".join(f"{f.name} @ {f.rate_hz:g} Hz" for f in recipe.features_a)
        fb = ", ".join(f"{f.name} @ {f.rate_hz:g} Hz" for f in recipe.features_b)
        lines.append(f"features: A {fa}; B {fb}")
    if entry is not None:
        for p in entry.params:
            if p.kind == "anchors" or not p.applies(recipe.params):
                continue
            value = recipe.params.get(p.name)
            same = value == p.default
            lines.append(f"{p.label}: {p.show(value) if p.kind != 'choice' else p.label_of(value)}"
                         + ("" if same else "  (changed)"))
        anchors = recipe.params.get("anchors_s") or ()
        if anchors:
            lines.append(f"anchors: {len(anchors)}")
    lines.append("distance: " + ("—" if al.distance != al.distance else f"{al.distance:.6g}"))
    elapsed = al.diagnostics.get("elapsed_s")
    if isinstance(elapsed, float):
        lines.append(f"took {elapsed:.2f} s")
    warning = al.diagnostics.get("warning")
    if warning:
        lines.append(f"warning: {warning}")
    order = al.diagnostics.get("order_check")
    if order:
        lines.append(f"order: {order['message']}")
    return "\n".join(lines)


class ResultsList(QWidget):
    """The results with an active radio and a compare check box per row."""

    def __init__(self, session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self._removed: list[_Removed] = []
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(4)
        # short headers leave the room to the names; the tooltips say them in full
        self.tree.setHeaderLabels(["act.", "cmp.", "dist.", "result (method, what differs)"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(True)
        # a narrow panel cuts the name column's header: "…" says so, its tooltip says all
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        for col in (COL_ACTIVE, COL_COMPARE, COL_DIST):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.headerItem().setToolTip(COL_DIST, "the result's distance (its method's "
                                          "cost of the path; lower is closer)")
        self.tree.headerItem().setToolTip(COL_NAME, self.tree.headerItem().text(COL_NAME))
        self.tree.headerItem().setToolTip(COL_ACTIVE, "active: the result the views follow")
        self.tree.headerItem().setToolTip(COL_COMPARE,
                                          "compare: drawn beside the active one on the matrix")
        self.active_group = QButtonGroup(self)
        self.active_group.setExclusive(True)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("remove the highlighted result (Delete)")
        self.undo_button = QPushButton("Undo remove", self)
        self.undo_button.setToolTip("bring back the last removed result (Ctrl+Z in the list)")
        self.undo_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.undo_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree, 1)
        lay.addLayout(buttons)

        self.remove_button.clicked.connect(self.remove_selected)
        self.undo_button.clicked.connect(self.undo_remove)
        # Delete and Ctrl+Z in the list act on the list, not on the window's Edit actions
        # of the same keys: the list takes them as key presses (ShortcutOverride)
        self._keys = [(QKeySequence("Delete"), self.remove_selected),
                      (QKeySequence("Ctrl+Z"), self.undo_remove)]
        self.tree.installEventFilter(self)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self._menu_pending = False
        self.context_menu: QMenu | None = None
        # a right press opens the menu of its row without making that row active
        self.tree.viewport().installEventFilter(self)
        session.alignment_added.connect(self._on_added)
        session.alignment_removed.connect(self._on_removed)
        session.active_alignment_changed.connect(self._on_active_changed)
        session.compared_alignment_changed.connect(self._on_compared_changed)
        session.alignment_edited.connect(self._on_edited)
        session.recording_opened.connect(self._forget_removed)
        session.recordings_swapped.connect(self._forget_removed)
        self._update_buttons()

    # ------------------------------------------------------------------ queries
    def count(self) -> int:
        return self.tree.topLevelItemCount()

    def item(self, row: int) -> QTreeWidgetItem:
        return self.tree.topLevelItem(row)

    def text(self, row: int) -> str:
        """The row as read: name, then the distance (when there is one)."""
        item = self.item(row)
        dist = item.text(COL_DIST)
        return item.text(COL_NAME) + (f"  d={dist}" if dist else "")

    def row_of(self, aid: int) -> int:
        for k in range(self.count()):
            if self.item(k).data(COL_NAME, Qt.ItemDataRole.UserRole) == aid:
                return k
        return -1

    def radio(self, row: int) -> QRadioButton:
        return self.tree.itemWidget(self.item(row), COL_ACTIVE).findChild(QRadioButton)

    def check(self, row: int) -> QCheckBox:
        return self.tree.itemWidget(self.item(row), COL_COMPARE).findChild(QCheckBox)

    def selected_id(self) -> int:
        item = self.tree.currentItem()
        return -1 if item is None else item.data(COL_NAME, Qt.ItemDataRole.UserRole)

    # ------------------------------------------------------------------ rows
    @staticmethod
    def _centred(button) -> QWidget:
        box = QWidget()
        lay = QHBoxLayout(box)
        lay.setContentsMargins(1, 0, 1, 0)
        lay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(button)
        return box

    def _on_added(self, aid: int) -> None:
        item = QTreeWidgetItem()
        item.setData(COL_NAME, Qt.ItemDataRole.UserRole, aid)
        self._set_texts(item, aid)
        self.tree.addTopLevelItem(item)
        radio = QRadioButton()
        radio.setToolTip("make this result the active one")
        self.active_group.addButton(radio)
        radio.clicked.connect(lambda _=False, a=aid: self._activate(a))
        check = QCheckBox()
        check.setToolTip("compare: draw this result beside the active one on the matrix")
        check.clicked.connect(lambda on, a=aid: self._compare(a, on))
        self.tree.setItemWidget(item, COL_ACTIVE, self._centred(radio))
        self.tree.setItemWidget(item, COL_COMPARE, self._centred(check))
        self._refresh_names()
        self._sync()

    def _set_texts(self, item: QTreeWidgetItem, aid: int, name: str | None = None) -> None:
        al = self.session.alignment(aid)
        item.setText(COL_DIST, "" if al is None or al.distance != al.distance
                     else f"{al.distance:.4g}")
        item.setTextAlignment(COL_DIST, Qt.AlignmentFlag.AlignRight
                              | Qt.AlignmentFlag.AlignVCenter)
        item.setText(COL_NAME, name or f"#{aid} {self.session.label(aid)}")
        tip = f"{self.session.label(aid)}\n\n" + result_tooltip(self.session, aid)
        for col in (COL_DIST, COL_NAME):
            item.setToolTip(col, tip)
        # the engine's warning (a part one side lacks, a solver that did not converge)
        # or its order check (the order seems to differ) outlives the status bar's
        # message: an icon on the row, the text in its tooltip
        warned = al is not None and bool(al.diagnostics.get("warning")
                                         or al.diagnostics.get("order_check"))
        item.setIcon(COL_NAME, self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxWarning) if warned else QIcon())

    def _refresh_names(self) -> None:
        """Names that tell the results apart: method and what differs from the others
        first (a narrow list cuts the end, not the difference), then the distance."""
        ids = [self.item(k).data(COL_NAME, Qt.ItemDataRole.UserRole)
               for k in range(self.count())]
        names = short_names({aid: self.session.label(aid) for aid in ids}, keep=3)
        for k, aid in enumerate(ids):
            self._set_texts(self.item(k), aid, names[aid])

    def _on_edited(self, aid: int) -> None:
        row = self.row_of(aid)
        if row >= 0:
            self._refresh_names()

    def _on_removed(self, aid: int) -> None:
        row = self.row_of(aid)
        if row >= 0:
            radio = self.radio(row)
            self.active_group.removeButton(radio)
            self.tree.takeTopLevelItem(row)
            self._refresh_names()
        self._update_buttons()

    def _on_active_changed(self, aid: int) -> None:
        self._sync()

    def _on_compared_changed(self, aid: int) -> None:
        self._sync()

    def _sync(self) -> None:
        """Radios, check boxes, bold and highlight from the Session's choices."""
        active, compared = self.session.active_id, self.session.compared_id
        self.tree.blockSignals(True)
        for k in range(self.count()):
            item = self.item(k)
            aid = item.data(COL_NAME, Qt.ItemDataRole.UserRole)
            radio, check = self.radio(k), self.check(k)
            radio.setChecked(aid == active)
            check.setChecked(aid == compared)
            # the active result is never compared with itself
            check.setEnabled(aid != active)
            font = item.font(COL_NAME)
            font.setBold(aid == active)
            item.setFont(COL_NAME, font)
            if aid == active:
                self.tree.setCurrentItem(item)
        if active == -1:
            self.tree.setCurrentItem(None)
        self.tree.blockSignals(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(self.count() > 0)
        self.undo_button.setEnabled(bool(self._removed))

    # ------------------------------------------------------------------ actions
    def _activate(self, aid: int) -> None:
        if aid in self.session.alignment_ids():
            self.session.set_active(aid)
        self._sync()

    def _compare(self, aid: int, on: bool) -> None:
        if on:
            self.session.set_compared(aid)
        elif self.session.compared_id == aid:
            self.session.set_compared(-1)
        self._sync()

    def _on_current_changed(self, current, _previous) -> None:
        # the highlighted row is the active one: a click or Up/Down makes it so
        if current is not None:
            self._activate(current.data(COL_NAME, Qt.ItemDataRole.UserRole))

    def _list_key(self, event):
        combo = QKeySequence(event.keyCombination())
        return next((slot for seq, slot in self._keys if seq == combo), None)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.tree:
            kind = event.type()
            if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) \
                    and self._list_key(event) is not None:
                event.accept()
                if kind == QEvent.Type.KeyPress:
                    self._list_key(event)()
                return True
            return super().eventFilter(watched, event)
        if watched is not self.tree.viewport():
            return super().eventFilter(watched, event)
        kind = event.type()
        if kind == QEvent.Type.ContextMenu:  # the platform's (press or release)
            self._menu_pending = False
            self._show_context_menu(event.pos())
            return True
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
                    QEvent.Type.MouseButtonDblClick) \
                and event.button() == Qt.MouseButton.RightButton:
            if kind == QEvent.Type.MouseButtonPress:
                self._menu_pending = True
            elif kind == QEvent.Type.MouseButtonRelease and self._menu_pending:
                # no context-menu event came with the press (synthesized input)
                self._menu_pending = False
                pos = event.position().toPoint()
                QTimer.singleShot(0, lambda: self._menu_after_release(pos))
            return True
        return super().eventFilter(watched, event)

    def _menu_after_release(self, pos) -> None:
        if self.context_menu is None or not self.context_menu.isVisible():
            self._show_context_menu(pos)

    def _show_context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        menu = QMenu(self)
        if item is not None:
            aid = item.data(COL_NAME, Qt.ItemDataRole.UserRole)
            active = menu.addAction("Make active")
            active.setEnabled(aid != self.session.active_id)
            active.triggered.connect(lambda: self._activate(aid))
            compare = menu.addAction("Compare with the active one")
            compare.setCheckable(True)
            compare.setChecked(aid == self.session.compared_id)
            compare.setEnabled(aid != self.session.active_id)
            compare.toggled.connect(lambda on: self._compare(aid, on))
            remove = menu.addAction("Remove")
            remove.triggered.connect(lambda: (self._activate(aid), self.remove_selected()))
        undo = menu.addAction("Undo remove")
        undo.setEnabled(bool(self._removed))
        undo.triggered.connect(self.undo_remove)
        self.context_menu = menu
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def remove_selected(self) -> None:
        """Remove the highlighted (active) result; it can be brought back."""
        aid = self.selected_id()
        if aid == -1:
            return
        res = self.session.project.result(aid)
        if res is not None:
            self._removed.append(_Removed(res.alignment, res.recipe, res.label, res.image,
                                          dict(res.inputs)))
        self.session.remove_alignment(aid)
        self._update_buttons()

    def undo_remove(self) -> int:
        """Put the last removed result back (as the active one); returns its new id, or
        -1 when there is nothing to undo."""
        if not self._removed:
            return -1
        r = self._removed.pop()
        keys = {s: (None if (i := self.session.recording_info(s)) is None else i.key)
                for s in ("a", "b")}
        if keys != r.inputs:  # made with other recordings: cannot come back
            self._removed.clear()
            self._update_buttons()
            return -1
        aid = self.session.add_alignment(r.alignment, recipe=r.recipe, label=r.label,
                                         image=r.image)
        self._update_buttons()
        return aid

    def _forget_removed(self, *_) -> None:
        self._removed.clear()
        self._update_buttons()
