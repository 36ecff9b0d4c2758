"""Map views: folium maps that work without internet access.

See :mod:`qjgeo.mapview.offline`.  Nothing here imports streamlit.
"""

from __future__ import annotations

from qjgeo.mapview.offline import (
    CDN_ASSETS,
    STREAMLIT_STATIC_BASE_URL,
    VENDOR_DIR,
    OfflineAssetError,
    OfflineColormap,
    asset_urls,
    external_urls,
    localize_map,
    standalone_html,
    vendor_path,
)

__all__ = [
    "CDN_ASSETS",
    "STREAMLIT_STATIC_BASE_URL",
    "VENDOR_DIR",
    "OfflineAssetError",
    "OfflineColormap",
    "asset_urls",
    "external_urls",
    "localize_map",
    "standalone_html",
    "vendor_path",
]
