# Tafel: slope and exchange current density on the iR-corrected LSV, automatic window
# (echem.workflow.tafel:tafel_sample; runs in each sample's job after LSV, rules/sample.smk).

STAGES["tafel"] = {
    "settings": config["tafel"],
    "outputs": {
        "table": "tables/tafel.csv",
        "audit": "audit/tafel/",
        "figures": "figures/tafel/",
        "errors": "errors/tafel.csv",
    },
}
