def register_envs(): pass
