"""Stand-ins the seed's dashboard snippets import instead of packages
Debian does not ship: pandas.read_parquet needs pyarrow (here DuckDB reads
the files, through test/parquet's Node reader), and plotly draws (here the
figure's arguments are recorded)."""
import glob as _glob

import pandas as _pandas

from conftest import duckdb_read


class _PandasReadingParquetWithDuckDB:
    """pandas, whose read_parquet() reads a file or a glob with DuckDB."""

    def __getattr__(self, name):
        return getattr(_pandas, name)

    def read_parquet(self, pattern):
        frames = []
        for path in sorted(_glob.glob(pattern)):
            doc = duckdb_read(path)
            frames.append(_pandas.DataFrame(doc["rows"], columns=doc["names"]))
        if not frames:
            raise FileNotFoundError(pattern)
        return _pandas.concat(frames, ignore_index=True)


pd = _PandasReadingParquetWithDuckDB()


class Figure:
    shown = []

    def __init__(self, kind, kwargs):
        self.kind = kind
        self.kwargs = kwargs

    def show(self):
        Figure.shown.append(self)


class _PlotlyExpress:
    def pie(self, **kwargs):
        return Figure("pie", kwargs)


px = _PlotlyExpress()


import datetime as _dt
from datetime import timedelta  # noqa: E402,F401  (re-exported beside datetime)


class datetime(_dt.datetime):  # noqa: N801 - stands in for datetime.datetime
    """datetime whose now() moves on by `step` per call: the seed's
    "# ... run flow ..." between two now() calls, taking time."""
    step = _dt.timedelta(seconds=10)
    _last = None

    @classmethod
    def now(cls, tz=None):
        real = _dt.datetime.now(tz)
        if cls._last is not None and real < cls._last + cls.step:
            real = cls._last + cls.step
        cls._last = real
        return cls.fromtimestamp(real.timestamp(), tz)
