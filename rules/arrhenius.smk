# Arrhenius: conductivity per temperature from the EIS fits and the sample geometry
# (echem.workflow.arrhenius:arrhenius_sample; runs in each sample's job after EIS).

STAGES["arrhenius"] = {
    "settings": config["arrhenius"],
    "outputs": {
        "conductivity": "tables/conductivity.csv",
        "arrhenius": "tables/arrhenius.csv",
        "audit": "audit/arrhenius/",
        "figures": "figures/arrhenius/",
        "errors": "errors/arrhenius.csv",
    },
}
