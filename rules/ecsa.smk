# ECSA: double-layer capacitance from the CV scan-rate series; specific and mass activity
# (echem.workflow.ecsa:ecsa_sample; runs in each sample's job after LSV, rules/sample.smk).

STAGES["ecsa"] = {
    "settings": config["ecsa"],
    "outputs": {
        "table": "tables/ecsa.csv",
        "audit": "audit/ecsa/",
        "figures": "figures/ecsa/",
        "errors": "errors/ecsa.csv",
    },
}
