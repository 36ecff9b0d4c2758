"""The Streamlit app: pages, widgets, strings and the cache boundary (the only streamlit code)."""
