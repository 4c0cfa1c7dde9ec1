from portal import create_app
from portal.gc_tuning import tune_for_serving

app = create_app()
tune_for_serving()
