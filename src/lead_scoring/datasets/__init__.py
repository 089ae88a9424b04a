"""The project's Kedro datasets.

Which dataset when:

====================  ==========================================================================
Dataset               Use it for
====================  ==========================================================================
RawLeadsDataset       A lead export as marketing tools send it (any encoding, delimiter, gzip or
                      zip), every cell as text; ``chunked: true`` reads it a chunk at a time.
AtomicCSVDataset      A whole table saved at once (``pandas.CSVDataset``, atomic replace).
AtomicJSONDataset     A whole JSON report saved at once (``json.JSONDataset``, atomic replace).
StreamedCSVDataset    A CSV a node yields chunk by chunk, published when the run succeeds.
CallListDataset       The call list: streamed like the above, published sorted by score.
ScoredChunksDataset   The scored chunks the nodes after batch scoring read back, a run's scratch.
DriftHistoryDataset   The drift history: concurrent runs append rows, none is lost.
CatBoostModelDataset  A fitted CatBoost model in its own ``.cbm`` format (never unpickled).
ReportFigureDataset   A matplotlib plot saved as PNG that loads back as bytes for the report.
LandingDataset        The landing folder's exports, listed for ingest.
LeadStoreDataset      The lead store (``lead_scoring.store``), exposed to the catalog.
====================  ==========================================================================

Every file a dataset writes is staged and published one way (``publish.py``); the streamed ones
are ``Publishable``, committed or discarded by ``StreamedOutputsHook`` when the run ends.
"""

from lead_scoring.datasets.atomic_datasets import AtomicCSVDataset, AtomicJSONDataset
from lead_scoring.datasets.catboost_model_dataset import CatBoostModelDataset
from lead_scoring.datasets.drift_history_dataset import DriftHistoryDataset
from lead_scoring.datasets.landing_dataset import LandingDataset
from lead_scoring.datasets.lead_store import LabelChangesDataset, LeadStore, LeadStoreDataset
from lead_scoring.datasets.publish import Publishable
from lead_scoring.datasets.raw_leads_dataset import ChunkedLeads, LeadExport, RawLeadsDataset
from lead_scoring.datasets.report_figure_dataset import ReportFigureDataset
from lead_scoring.datasets.scored_chunks_dataset import ScoredChunksDataset
from lead_scoring.datasets.streamed_csv_dataset import CallListDataset, StreamedCSVDataset

__all__ = [
    "AtomicCSVDataset",
    "AtomicJSONDataset",
    "CallListDataset",
    "CatBoostModelDataset",
    "ChunkedLeads",
    "DriftHistoryDataset",
    "LabelChangesDataset",
    "LandingDataset",
    "LeadExport",
    "LeadStore",
    "LeadStoreDataset",
    "Publishable",
    "RawLeadsDataset",
    "ReportFigureDataset",
    "ScoredChunksDataset",
    "StreamedCSVDataset",
]
