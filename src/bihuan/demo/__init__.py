"""The demo city: a deterministic, synthetic Yongkang in the middle of its campaign.

``bihuan demo`` calls :func:`bihuan.demo.generator.generate`. Areas are the real
divisions of Yongkang; everything else (places, parties, people, findings) is
synthetic and reproducible from a seed. Hazards and inspections are written only
through the domain services, so the demo data obeys the same rules as real data.
"""
