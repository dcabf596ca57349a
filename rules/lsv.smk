# LSV: RHE scale, iR correction (Ru from sample.yaml, else the EIS fit), overpotentials
# (echem.workflow.lsv:lsv_sample; runs in each sample's job after EIS, rules/sample.smk).

STAGES["lsv"] = {
    "settings": config["lsv"],
    "outputs": {
        "table": "tables/overpotentials.csv",
        "curves": "lsv_curves.parquet",
        "audit": "audit/lsv/",
        "figures": "figures/lsv/",
        "errors": "errors/lsv.csv",
    },
}
