"""Territory and route engines (pure Python: numpy + OR-Tools, no Django).

- :mod:`.geo`: coordinates to kilometres (equirectangular projection, haversine for single distances);
- :mod:`.assign`: customer-to-CM assignment within load bounds, compact, with few moves (min-cost flow);
- :mod:`.baseline`: k-means plus greedy capacity repair, the yardstick of ``kejing bench territory``;
- :mod:`.synthetic`: clustered county-like test data for the benchmark;
- :mod:`.plan`: a month's visit days per customer from its visit frequency;
- :mod:`.route`: the order of one day's visits with opening-hour time windows (OR-Tools routing);
- :mod:`.policy`: the territory policy file read into typed values.
"""
