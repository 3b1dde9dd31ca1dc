# Regenerate the Praat fixtures (Praat 6.3.07):  praat --run make_fixtures.praat
# The same TextGrid saved by Praat itself as a binary, a long text and a short text file.
tg = Create TextGrid: 0, 2.5, "words bell", "bell"
Set interval text: 1, 1, "hello"
Insert boundary: 1, 0.8
Set interval text: 1, 2, "wörld ☃"
Insert boundary: 1, 1.7
Set interval text: 1, 3, "😀 smile"
Insert point: 2, 1.2, "ding"
Insert point: 2, 2.0, ""
Save as binary file: "labels.binary.TextGrid"
Save as text file: "labels.long.TextGrid"
Save as short text file: "labels.short.TextGrid"
