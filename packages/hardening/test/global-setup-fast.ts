import { hardeningSetup } from './global-setup';

export default hardeningSetup('fast');
