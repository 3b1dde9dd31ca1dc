"""The functions the window's workers run: plain imports of ``core``, no Qt.

Each takes ``progress`` and ``cancel`` keywords like the core functions and is handed to
:class:`inspector.jobs.JobRunner` in a :class:`~inspector.jobs.Request`; tests call them
directly.

- :mod:`.media`: opening a recording (with its content hash), waveform envelopes (the
  recording's own ``envelope``), video frames and filmstrips;
- :mod:`.features`: features of a recording, the stream views' feature images (in a child
  process for long recordings);
- :mod:`.align`: running a recipe of :mod:`core.registry` (the default alignment of long
  inputs in a child process) and what its cost image shows;
- :mod:`.process`: running a task in a spawned child process, with progress, cancel and
  errors that keep their exception type.
"""
